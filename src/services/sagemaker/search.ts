/** SageMaker's Search operation. */
import type { SearchService } from '../../engine/experiments/search.ts';
import type { OperationInput } from '../types.ts';

export class SageMakerSearchOperations {
  constructor(private readonly searchService: SearchService) {}

  Search(input: OperationInput) {
    return this.searchService.search(input as never);
  }
}
