/**
 * SigV4 for the direct path's requests (a POST to `/`, no query string), exactly as the SDK's
 * `SignatureV4` signs them: the same canonical request, the same headers signed and left unsigned,
 * the same signing key, with Node's one-shot hashes. The SDK's signer spends about 40 µs a call
 * in wrappers around the same hashes (its signing-key cache alone computes an HMAC per call);
 * this spends under 20. Used only while the client's signer is the SDK's own `SignatureV4`: any
 * other signer signs by itself. A request DynamoDB refuses as badly signed is sent again through
 * the SDK (see `direct.ts`).
 */
import { createHmac, hash } from 'node:crypto';

/** Headers `SignatureV4` never signs (`ALWAYS_UNSIGNABLE_HEADERS`, and the `proxy-` and `sec-` ones). */
const unsignable = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** The credentials a request is signed with. @internal */
export interface SigningIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** A header value as SigV4 canonicalises it (line breaks and runs of blanks made one space, then trimmed). */
function canonicalValue(value: string): string {
  const plain =
    value.charCodeAt(0) !== 32 &&
    value.charCodeAt(value.length - 1) !== 32 &&
    !value.includes('  ') &&
    !value.includes('\t') &&
    !value.includes('\n') &&
    !value.includes('\r');
  if (plain) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** The second of the last signing date, and its text: the calls of one second share it. */
let lastSecond = Number.NaN;
let lastLongDate = '';

/** `20261130T174502Z` */
function longDateOf(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    const iso = date.toISOString();
    lastLongDate = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    lastSecond = second;
  }
  return lastLongDate;
}

/** Signs the direct path's requests; keeps the signing key of the day per region and service. @internal */
export class RequestSigner {
  #keys = new Map<string, { secret: string; key: Buffer }>();

  #signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
    const id = `${shortDate}/${region}/${service}`;
    const cached = this.#keys.get(id);
    if (cached?.secret === secret) return cached.key;
    let key = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
    for (const part of [region, service, 'aws4_request'])
      key = createHmac('sha256', key).update(part).digest();
    if (this.#keys.size > 16) this.#keys.clear();
    this.#keys.set(id, { secret, key });
    return key;
  }

  /**
   * Adds `x-amz-date`, `x-amz-security-token` (temporary credentials), `x-amz-content-sha256`
   * (unless `sendPayloadHash` is false) and `authorization` to `headers` (lower-case names).
   */
  sign(
    headers: Record<string, string>,
    payloadHash: string,
    sendPayloadHash: boolean,
    identity: SigningIdentity,
    date: Date,
    region: string,
    service: string,
  ): void {
    const longDate = longDateOf(date);
    const shortDate = longDate.slice(0, 8);
    headers['x-amz-date'] = longDate;
    if (identity.sessionToken) headers['x-amz-security-token'] = identity.sessionToken;
    else delete headers['x-amz-security-token'];
    if (sendPayloadHash) headers['x-amz-content-sha256'] = payloadHash;
    delete headers.authorization;
    const names = Object.keys(headers)
      .filter((n) => !unsignable.has(n) && !n.startsWith('proxy-') && !n.startsWith('sec-'))
      .sort();
    let canonicalHeaders = '';
    for (const n of names) canonicalHeaders += `${n}:${canonicalValue(headers[n] ?? '')}\n`;
    const signedHeaders = names.join(';');
    const canonical = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${shortDate}/${region}/${service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${hash('sha256', canonical, 'hex')}`;
    const key = this.#signingKey(identity.secretAccessKey, shortDate, region, service);
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${identity.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  }
}
