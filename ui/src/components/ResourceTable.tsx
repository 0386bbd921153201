import type { ReactNode } from 'react';
import { href } from '../router';
import { Status } from './Status';
import { elapsed, when } from './time';

/** What a list page shows of a resource: name (linked to its page), status, creation and, for jobs, duration. */
export interface ResourceRow {
  name: string;
  status: string;
  created?: string;
  /** Jobs: when they ended (their duration runs until now while they run). */
  ended?: string;
}

/** The table every resource list in Studio shows, with the sentence to show when it is empty. */
export function ResourceTable({ page, rows, duration = false, empty }: { page: string; rows: ResourceRow[] | undefined; duration?: boolean; empty: ReactNode }) {
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Created</th>
            {duration && <th>Duration</th>}
          </tr>
        </thead>
        <tbody>
          {(rows ?? []).map((r) => (
            <tr key={r.name}>
              <td>
                <a href={href(page, r.name)}>{r.name}</a>
              </td>
              <td>
                <Status value={r.status} />
              </td>
              <td>{when(r.created)}</td>
              {duration && <td>{elapsed(r.created, r.ended)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
      {rows && !rows.length && <p className="muted">{empty}</p>}
    </>
  );
}
