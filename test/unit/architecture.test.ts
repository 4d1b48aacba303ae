/**
 * The layering rules of docs/architecture.md, checked on the source: the domain stays pure, the
 * application layer sees ports rather than AWS, and the bucket layout is written in one place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();

function sourceFiles(directory: string): string[] {
  return readdirSync(join(ROOT, directory), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Module specifiers of every static and dynamic import and re-export in a file. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*'([^']+)'/g)) {
    specifiers.push(match[1]!);
  }
  for (const match of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/(?:^|\n)\s*import\s*'([^']+)'/g)) specifiers.push(match[1]!);
  return specifiers;
}

/** Where a specifier leads: `domain`, `app`, `adapters`, another area, or a package name. */
function layerOf(file: string, specifier: string): string {
  if (specifier.startsWith('#')) return specifier.slice(1).split('/')[0]!;
  if (!specifier.startsWith('.')) return `package:${specifier}`;
  const target = relative(ROOT, join(ROOT, file, '..', specifier));
  const match = /^shared\/(domain|app|adapters)\//.exec(target);
  return match ? match[1]! : target.split('/')[0]!;
}

describe('architecture', () => {
  it('keeps shared/domain pure: it imports only domain code, zod and @stdlib', () => {
    const violations = sourceFiles('shared/domain').flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const layer = layerOf(file, specifier);
          return !(layer === 'domain' || layer === 'package:zod' || layer.startsWith('package:@stdlib/'));
        })
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(violations).toEqual([]);
  });

  it('keeps shared/app off the AWS SDK, DuckDB and the adapters', () => {
    const violations = sourceFiles('shared/app').flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const layer = layerOf(file, specifier);
          return (
            layer === 'adapters' ||
            layer.startsWith('package:@aws-sdk/') ||
            layer.startsWith('package:@duckdb/') ||
            layer === 'functions' ||
            layer === 'infra'
          );
        })
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(violations).toEqual([]);
  });

  it('writes the bucket prefixes only in the layout module', () => {
    const prefix = /['`](incoming|clean|rejected|quarantine|config|runs|athena-results)\//;
    const violations = ['shared', 'functions', 'infra', 'bench']
      .flatMap(sourceFiles)
      .filter((file) => file !== 'shared/domain/bucket-layout.ts')
      .flatMap((file) =>
        readFileSync(join(ROOT, file), 'utf8')
          .split('\n')
          .map((line, index) => ({ line, number: index + 1 }))
          // Comments may name a prefix to explain it; code may not spell one.
          .filter(({ line }) => !/^\s*(\*|\/\/|\/\*)/.test(line) && prefix.test(line))
          .map(({ number, line }) => `${file}:${number}: ${line.trim()}`),
      );
    expect(violations).toEqual([]);
  });
});
