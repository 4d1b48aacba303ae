/** The ingest catalog on DynamoDB: the clean objects of succeeded ingest reports (GSI1 `INGESTS`). */
import type { IngestCatalog } from '#app/ports/ingest-catalog.ts';
import { createBatchAccess, type DynamoTable } from './batch.ts';
import { TABLE_KEYS } from './keys.ts';

export function createIngestCatalog(target: DynamoTable): IngestCatalog {
  const batch = createBatchAccess(target);
  return {
    async listCleanObjects() {
      const items = await batch.queryAll({
        IndexName: TABLE_KEYS.gsi1Name,
        KeyConditionExpression: 'gsi1pk = :pk',
        FilterExpression: '#status = :succeeded AND attribute_type(cleanKey, :string)',
        ProjectionExpression: 'ingestId, #key, cleanKey',
        ExpressionAttributeNames: { '#status': 'status', '#key': 'key' },
        ExpressionAttributeValues: { ':pk': 'INGESTS', ':succeeded': 'succeeded', ':string': 'S' },
      });
      return items.map((item) => ({
        ingestId: item.ingestId as string,
        exportKey: item.key as string,
        cleanKey: item.cleanKey as string,
      }));
    },
  };
}
