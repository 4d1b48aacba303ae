/** CDK app entry (`cdk.json` → `npx tsx infra/aws/app.ts`). */
import { App } from 'aws-cdk-lib';
import { addPipelineStack } from './pipeline-app.ts';

const app = new App();
addPipelineStack(app);
app.synth();
