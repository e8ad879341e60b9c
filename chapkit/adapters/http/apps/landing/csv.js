// CSV to the API's frame shape `{columns, data}`: numbers as numbers, empty cells as null.

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into rows of strings. */
export function parseRows(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const src = text.replace(/^\ufeff/, "");
  while (i < src.length) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i += 1;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (ch === "\r" && src[i + 1] === "\n") i += 1;
    } else field += ch;
    i += 1;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

function cell(value, column) {
  if (value === "") return null;
  // Identifiers stay text even when they look like numbers (a location "01", a period "2024").
  if (column === "location" || column === "time_period") return value;
  return NUMBER.test(value.trim()) ? Number(value) : value;
}

/** A CSV document as a frame; throws an Error naming the first bad line. */
export function csvToFrame(text) {
  const rows = parseRows(text);
  if (rows.length === 0) throw new Error("The CSV file is empty");
  const columns = rows[0].map((c) => c.trim());
  const data = rows.slice(1).map((r, index) => {
    if (r.length !== columns.length) throw new Error(`Line ${index + 2} has ${r.length} fields, the header ${columns.length}`);
    return r.map((value, j) => cell(value, columns[j]));
  });
  return { columns, data };
}
