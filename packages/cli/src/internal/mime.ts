/**
 * The MIME type of a file from its extension, for `--mime-type` left out. A small table of the types CDF users
 * upload most; anything else gets no MIME type (CDF then stores none, and the upload URL accepts any body).
 *
 * @internal
 */

const table: Readonly<Record<string, string>> = {
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  xml: "application/xml",
  json: "application/json",
  jsonl: "application/jsonl",
  ndjson: "application/x-ndjson",
  yaml: "application/yaml",
  yml: "application/yaml",
  js: "text/javascript",
  mjs: "text/javascript",
  ts: "text/plain",
  py: "text/x-python",
  ipynb: "application/x-ipynb+json",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
  parquet: "application/vnd.apache.parquet",
  avro: "application/avro",
  bin: "application/octet-stream",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  webp: "image/webp",
  svg: "image/svg+xml",
  dwg: "image/vnd.dwg",
  dxf: "image/vnd.dxf",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  mp4: "video/mp4",
  mov: "video/quicktime",
  avi: "video/x-msvideo",
  las: "application/vnd.las",
  laz: "application/vnd.laszip",
  e57: "model/e57",
  obj: "model/obj",
  stl: "model/stl",
  glb: "model/gltf-binary",
  gltf: "model/gltf+json",
  ifc: "application/x-step",
  step: "model/step",
  stp: "model/step"
}

/**
 * The MIME type for a file name, or `undefined` when the extension is not in the table.
 *
 * @internal
 */
export const guess = (fileName: string): string | undefined => {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1)
  const dot = base.lastIndexOf(".")
  if (dot <= 0) return undefined
  return table[base.slice(dot + 1).toLowerCase()]
}
