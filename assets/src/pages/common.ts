// Bits the pages share.

import { ApiError } from '../api'
import { t } from '../i18n'

/** A user-facing message for a failed API call. */
export function errorText (err: unknown): string {
  if (!(err instanceof ApiError) || err.status === 0) return t('error.network')
  if (err.status === 403) return t('error.forbidden')
  if (err.status === 404) return t('error.notFound')
  if (err.status === 400) return t('error.invalid')
  return t('error.generic')
}
