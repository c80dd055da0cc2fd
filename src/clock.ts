/** Epoch seconds now: the unit of every expiry in the table. @internal */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
