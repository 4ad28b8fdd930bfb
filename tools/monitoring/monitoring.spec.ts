import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { Registry } from 'prom-client';
import { describeConfig } from '@mailwarden/config';
import { MessageMetrics, replicaLagGauges } from '@mailwarden/db';
import { DeliveryMetrics } from '@mailwarden/delivery';
import { registerExportMetrics } from '@mailwarden/export';
import { MimecastMetrics } from '@mailwarden/mimecast';
import { createMetricsRegistry, httpMetricsMiddleware } from '@mailwarden/observability';
import { queueGauges } from '@mailwarden/queue';
import { ScanMetrics } from '@mailwarden/scanning';
import { DnsMetrics } from '@mailwarden/sender-checks';
import { SmtpMetrics } from '@mailwarden/smtp';

const DOCKER = path.join(__dirname, '..', '..', 'docker');
/** Series Prometheus makes itself (not exported by any app). */
const PROMETHEUS_SERIES = new Set(['up']);
/** Labels Prometheus adds to every series it scrapes, and the one every Mailwarden registry adds. */
const TARGET_LABELS = new Set(['job', 'instance', 'app', 'le']);

/** Every metric the apps export, with its label names: built by the same code the apps run, into one registry. */
function exportedMetrics(): Map<string, Set<string>> {
  const registry: Registry = createMetricsRegistry('drift-test');
  new SmtpMetrics(registry, 'journal');
  new MessageMetrics(registry);
  replicaLagGauges(registry);
  new ScanMetrics(registry);
  new DeliveryMetrics(registry);
  new DnsMetrics(registry);
  new MimecastMetrics(registry);
  queueGauges(registry);
  registerExportMetrics(registry, { listAllDestinations: async () => [], lag: async () => ({ events: 0, oldestAt: null }) });
  httpMetricsMiddleware(registry);
  const names = new Map<string, Set<string>>();
  for (const metric of registry.getMetricsAsArray()) {
    const { name, labelNames = [] } = metric as unknown as { name: string; labelNames?: string[] };
    const type = (metric as unknown as { type?: string }).type;
    const series = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : type === 'summary' ? [name, `${name}_sum`, `${name}_count`] : [name];
    for (const entry of series) {
      names.set(entry, new Set(labelNames));
    }
  }
  return names;
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): AlertRule[] {
  const document = load(readFileSync(path.join(DOCKER, 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return document.groups.flatMap((group) => group.rules);
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(path.join(DOCKER, 'grafana', 'dashboards', 'mailwarden.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

/** The metric names an expression uses, and for each selector `name{...}` the label names it matches on. */
function referencedSeries(expression: string): Array<{ name: string; labels: string[] }> {
  const found: Array<{ name: string; labels: string[] }> = [];
  for (const match of expression.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const name = match[1]!;
    if (!name.startsWith('mailwarden_') && !PROMETHEUS_SERIES.has(name)) {
      continue;
    }
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((label) => label[1]!);
    found.push({ name, labels });
  }
  return found;
}

describe('docker/ monitoring files', () => {
  const exported = exportedMetrics();

  const check = (source: string, expression: string) => {
    const series = referencedSeries(expression);
    for (const { name, labels } of series) {
      if (PROMETHEUS_SERIES.has(name)) {
        continue;
      }
      expect({ source, name, exported: exported.has(name) }).toEqual({ source, name, exported: true });
      for (const label of labels) {
        const known = exported.get(name)!.has(label) || TARGET_LABELS.has(label);
        expect({ source, name, label, known }).toEqual({ source, name, label, known: true });
      }
    }
    return series.length;
  };

  it('should name in the alert rules only metrics and labels the code exports', () => {
    const rules = alertRules();
    for (const rule of rules) {
      expect(check(`alert ${rule.alert}`, rule.expr)).toBeGreaterThan(0);
    }
  });

  it('should name in the Grafana dashboard only metrics and labels the code exports', () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    for (const expression of expressions) {
      expect(check('dashboard', expression)).toBeGreaterThan(0);
    }
  });

  it('should catch a metric name the code does not export', () => {
    expect(referencedSeries('sum(rate(mailwarden_no_such_thing_total{queue="scan"}[5m]))')).toEqual([{ name: 'mailwarden_no_such_thing_total', labels: ['queue'] }]);
    expect(exported.has('mailwarden_no_such_thing_total')).toBe(false);
    expect(exported.get('mailwarden_queue_jobs')!.has('destination')).toBe(false);
  });

  it('should alert on a stuck queue, a rising 4xx rate, scan failures and a lagging export destination, each with a severity and a summary', () => {
    const rules = alertRules();
    const uses = (metric: string) => rules.filter((rule) => rule.expr.includes(metric)).map((rule) => rule.alert);
    expect(uses('mailwarden_queue_oldest_waiting_seconds')).toContain('MailwardenQueueStuck');
    expect(uses('mailwarden_http_requests_total{status=~"4.."}')).toContain('MailwardenApi4xxRising');
    expect(uses('mailwarden_scans_total')).toContain('MailwardenScanFailures');
    expect(uses('mailwarden_export_lag_seconds')).toContain('MailwardenExportDestinationLagging');
    expect(uses('mailwarden_db_replica_fallback')).toContain('MailwardenReadReplicaLagging');
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity, summary: typeof rule.annotations?.summary }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
        summary: 'string',
      });
    }
  });

  it('should scrape every app on the port its /metrics listens on, and load the alert rules', () => {
    const config = load(readFileSync(path.join(DOCKER, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; port: number }> }>;
    };
    const targets = Object.fromEntries(config.scrape_configs.map((job) => [job.dns_sd_configs[0]!.names[0], job.dns_sd_configs[0]!.port]));
    const port = (app: 'journal-ingest' | 'scanner' | 'admin-api', name: string) => describeConfig(app).find((entry) => entry.name === name)!.default;
    expect(targets).toEqual({
      'journal-ingest': port('journal-ingest', 'JOURNAL_HTTP_PORT'),
      scanner: port('scanner', 'SCANNER_HTTP_PORT'),
      'admin-api': port('admin-api', 'ADMIN_API_PORT'),
    });
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    // The services scraped are compose.yml's, and the monitoring override mounts what Prometheus loads.
    const services = Object.keys((load(readFileSync(path.join(DOCKER, 'compose.yml'), 'utf8')) as { services: Record<string, unknown> }).services);
    expect(services).toEqual(expect.arrayContaining(Object.keys(targets)));
    const monitoring = load(readFileSync(path.join(DOCKER, 'compose.monitoring.yml'), 'utf8')) as { services: Record<string, { volumes: string[] }> };
    expect(monitoring.services.prometheus!.volumes).toEqual(
      expect.arrayContaining(['./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', './prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro']),
    );
  });
});
