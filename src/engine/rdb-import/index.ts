// RDB file import: an RDB file's keys and functions onto a target (migration-buddy import).
export {
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  ImportStoppedError,
  importRdbFile,
} from './import-rdb-file.js';
