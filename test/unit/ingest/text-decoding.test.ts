/**
 * Streaming text decoding: UTF-8 split anywhere, Windows-1252 recognised at the first non-ASCII byte,
 * byte-order marks and configured encodings, and mid-file switches reported.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IngestFileError } from '#domain/ingest/ingest-file-error.ts';
import { detectByteOrderMark, detectUtf16, StreamingTextDecoder } from '#domain/ingest/text-decoding.ts';

function decodeAll(
  bytes: Uint8Array,
  encoding: string | null,
  chunk: number,
): { text: string; encoding: string } {
  const decoder = new StreamingTextDecoder(encoding);
  let text = '';
  for (let i = 0; i < bytes.length; i += chunk) text += decoder.decode(bytes.subarray(i, i + chunk));
  text += decoder.end();
  return { text, encoding: decoder.encoding };
}

const cp1252 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

describe('StreamingTextDecoder', () => {
  it('decodes UTF-8 split anywhere, including inside multi-byte sequences', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        (text, chunk) => {
          const result = decodeAll(new TextEncoder().encode(text), null, chunk);
          expect(result.text).toBe(text);
          expect(result.encoding).toBe('utf-8');
        },
      ),
    );
  });

  it('recognises Windows-1252 at the first non-ASCII byte, even at a chunk end', () => {
    const text = 'klant;bedrag\r\nRené;€ 5\r\nZoë;3\r\n';
    const bytes = Uint8Array.from([
      ...cp1252('klant;bedrag\r\nRen'),
      0xe9,
      ...cp1252(';'),
      0x80,
      ...cp1252(' 5\r\nZo'),
      0xeb,
      ...cp1252(';3\r\n'),
    ]);
    for (let chunk = 1; chunk <= bytes.length; chunk++) {
      expect(decodeAll(bytes, null, chunk)).toEqual({ text, encoding: 'windows-1252' });
    }
  });

  it('honours byte-order marks and a configured encoding', () => {
    expect(detectByteOrderMark(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).toBe('utf-8');
    expect(detectByteOrderMark(Uint8Array.of(0xff, 0xfe))).toBe('utf-16le');
    expect(decodeAll(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61, 0x62), 'utf-8', 1).text).toBe('ab');
    expect(decodeAll(cp1252('caf\u00e9'), 'iso-8859-1', 2)).toEqual({
      text: 'café',
      encoding: 'windows-1252',
    });
    const utf16 = Uint8Array.from([...'klant;bedrag\n'].flatMap((ch) => [ch.charCodeAt(0), 0]));
    expect(detectUtf16(utf16)).toBe('utf-16le');
    expect(detectUtf16(utf16.subarray(1))).toBe('utf-16be');
    expect(detectUtf16(new TextEncoder().encode('klant;bedrag\n'))).toBeNull();
    expect(decodeAll(utf16, 'utf-16le', 3).text).toBe('klant;bedrag\n');
  });

  it('reports a file that turns from UTF-8 into something else', () => {
    const bytes = Uint8Array.from([...new TextEncoder().encode('é;1\n'), ...cp1252('x;'), 0xe9, 0x0a]);
    expect(() => decodeAll(bytes, null, 4)).toThrow(IngestFileError);
    expect(() => decodeAll(bytes, null, 4)).toThrow(/not valid UTF-8 after byte/);
  });
});
