// The disk spool of a network output: `Spool` (the directory, segments, position), `SpoolFormat`
// (the bytes on disk, and the parser the fuzz target `SpoolSegments` feeds), `CRC32C`.
