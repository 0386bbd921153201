/** The filter, sort and paging members every SageMaker List* operation shares. */
import type { ListQuery } from '../../store/metadata/resources.ts';
import type { OperationInput } from '../types.ts';

export function listQuery(input: OperationInput): ListQuery {
  return {
    nameContains: input.NameContains,
    statusEquals: input.StatusEquals,
    creationTimeAfter: input.CreationTimeAfter,
    creationTimeBefore: input.CreationTimeBefore,
    lastModifiedTimeAfter: input.LastModifiedTimeAfter,
    lastModifiedTimeBefore: input.LastModifiedTimeBefore,
    sortBy: input.SortBy,
    sortOrder: input.SortOrder,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  };
}
