/**
 * The SageMaker control plane. Operations are added here as their engine modules land;
 * every operation of the API model that is not a method here answers NotImplemented.
 */
export class SageMakerProvider {}
