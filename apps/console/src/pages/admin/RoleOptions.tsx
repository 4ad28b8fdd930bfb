import { useTranslation } from 'react-i18next';

/** The options of a role picker (people's and API keys' roles), labelled through the catalogue. */
export function RoleOptions({ roles }: { roles: readonly string[] }) {
  const { t } = useTranslation();
  return (
    <>
      {roles.map((role) => (
        <option key={role} value={role}>
          {t(`roles.${role}`)}
        </option>
      ))}
    </>
  );
}
