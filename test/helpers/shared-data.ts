/**
 * The workspace's public datasets (churn, wine, …). They live beside the repository in
 * ../shared/data; a clone elsewhere finds them through KILN_SHARED_DATA or the workspace path.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function locate(): string {
  const candidates = [process.env.KILN_SHARED_DATA, path.join(repo, '../shared/data'), '/work/shared/data'].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(path.join(c, 'churn-xgboost', 'train.csv')));
  if (!found) throw new Error(`The shared datasets are not found; set KILN_SHARED_DATA (looked in ${candidates.join(', ')})`);
  return found;
}

export const SHARED_DATA = locate();
export const CHURN_XGBOOST = path.join(SHARED_DATA, 'churn-xgboost');
export const WINE_QUALITY = path.join(SHARED_DATA, 'wine-quality');
export const HOTEL_BOOKINGS = path.join(SHARED_DATA, 'hotel-bookings', 'hotel_bookings.csv');
