import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** JSON object, or `undefined` when the key does not exist. */
export async function getJsonObject(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  let body: string | undefined;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = await got.Body?.transformToString('utf8');
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
    throw error;
  }
  try {
    return JSON.parse(body ?? '');
  } catch (error) {
    throw new Error(`s3://${bucket}/${key} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function putTextObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  contentType = 'application/json',
): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function getTextObject(s3: S3Client, bucket: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await got.Body?.transformToString('utf8')) ?? '';
}

/** Every key under a prefix, sorted. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}
