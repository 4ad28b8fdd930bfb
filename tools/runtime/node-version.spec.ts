describe('runtime', () => {
  it('should run on Node 22 or newer (mailauth 7 needs it; the repo pins Node 24)', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).toBeGreaterThanOrEqual(22);
  });
});
