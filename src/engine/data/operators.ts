/** Which operators exist for each node type, and their arity and named outputs. */
import type { FlowNode, NodeType, OperatorCatalog } from './flow.ts';
import { ANALYSES } from './analyses/index.ts';
import { SOURCES } from './sources.ts';
import { TRANSFORMS } from './transforms/index.ts';

export const DESTINATIONS = ['s3', 'feature_group'] as const;

export const operatorCatalog: OperatorCatalog = {
  has(type: NodeType, operator: string) {
    switch (type) {
      case 'source': return Object.hasOwn(SOURCES, operator);
      case 'transform': return Object.hasOwn(TRANSFORMS, operator);
      case 'analysis': return Object.hasOwn(ANALYSES, operator);
      case 'destination': return (DESTINATIONS as readonly string[]).includes(operator);
    }
  },
  arity(type: NodeType, operator: string) {
    if (type === 'source') return 0;
    if (type === 'transform') return TRANSFORMS[operator]?.arity ?? 1;
    return 1;
  },
  outputsOf(node: FlowNode) {
    if (node.type !== 'transform') return undefined;
    const op = TRANSFORMS[node.operator];
    if (!op?.outputs) return undefined;
    return op.outputs(node.parameters ?? {});
  },
};

export const listOperators = () => ({
  source: Object.keys(SOURCES),
  transform: Object.keys(TRANSFORMS),
  analysis: Object.keys(ANALYSES),
  destination: [...DESTINATIONS],
});
