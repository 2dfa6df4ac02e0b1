-- The bodies of the fake's file answers: small, deterministic and valid for their type
-- (a KML a KML reader opens, a PDF with a correct cross-reference table, an XLSX a
-- spreadsheet opens), except XLS, whose binary BIFF format is out of reach: it is an
-- OLE2 signature and a note, enough to tell the type by its first bytes.
local zip = require "fake.zip"

local M = {}

M.TYPES = {
  kml = "application/vnd.google-earth.kml+xml", -- the type map_layer.md gives KML
  kmz = "application/vnd.google-earth.kmz",
  pdf = "application/pdf",
  xls = "application/vnd.ms-excel",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", -- Admin_Panel.json, user/export
  csv = "text/csv",                                                          -- Admin_Panel.json, user/export
  parquet = "application/octet-stream", -- raw-data.md asks with "accept: application/octet-stream"
}

local function xml_escape(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- A track as KML, in the shape of the example of track/download
-- (api-docs/platform-api/user-api/backend-api/resources/tracking/track/index.md).
-- points: array of { when (ISO with offset), description, lat, lng, speed, heading }.
function M.kml_track(name, points)
  local out = { '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    .. '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"'
    .. ' xmlns:atom="http://www.w3.org/2005/Atom" xmlns:xal="urn:oasis:names:tc:ciq:xsdschema:xAL:2.0">\n'
    .. "  <Document>\n    <name>" .. xml_escape(name) .. "</name>\n" }
  for i, p in ipairs(points) do
    out[#out + 1] = ("    <Placemark>\n      <name>point #%d</name>\n      <visibility>1</visibility>\n"
      .. "      <description>%s</description>\n      <TimeStamp>\n        <when>%s</when>\n      </TimeStamp>\n"
      .. "      <ExtendedData>\n        <Data name=\"speed\">\n          <value>%d</value>\n        </Data>\n"
      .. "        <Data name=\"heading\">\n          <value>%d</value>\n        </Data>\n      </ExtendedData>\n"
      .. "      <Point>\n        <coordinates>%.7f,%.7f</coordinates>\n      </Point>\n    </Placemark>\n")
      :format(i, xml_escape(p.description), p.when, p.speed, p.heading, p.lng, p.lat)
  end
  out[#out + 1] = "  </Document>\n</kml>\n"
  return table.concat(out)
end

-- KMZ: the KML zipped as doc.kml, the name Google Earth opens first.
function M.kmz(kml) return zip.archive{ { name = "doc.kml", data = kml } } end

-- A one-page PDF 1.4 with `title` and `lines` in Helvetica; byte offsets in the xref
-- table are computed, so readers need no repair.
function M.pdf(title, lines)
  local function text(s) return (tostring(s):gsub("[\128-\255]+", "?"):gsub("[()\\]", "\\%0")) end
  local content = { "BT /F1 16 Tf 50 790 Td (" .. text(title) .. ") Tj ET" }
  for i, l in ipairs(lines) do
    content[#content + 1] = ("BT /F1 10 Tf 50 %d Td (%s) Tj ET"):format(770 - 14 * i, text(l))
  end
  local stream = table.concat(content, "\n")
  local objects = {
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
      .. " /Resources << /Font << /F1 5 0 R >> >> >>",
    "<< /Length " .. #stream .. " >>\nstream\n" .. stream .. "\nendstream",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  }
  local out, offsets = { "%PDF-1.4\n%\226\227\207\211\n" }, {}
  local size = #out[1]
  for i, body in ipairs(objects) do
    offsets[i] = size
    out[#out + 1] = i .. " 0 obj\n" .. body .. "\nendobj\n"
    size = size + #out[#out]
  end
  out[#out + 1] = "xref\n0 " .. (#objects + 1) .. "\n0000000000 65535 f \n"
  for _, o in ipairs(offsets) do out[#out + 1] = ("%010d 00000 n \n"):format(o) end
  out[#out + 1] = "trailer\n<< /Size " .. (#objects + 1) .. " /Root 1 0 R >>\nstartxref\n" .. size .. "\n%%EOF\n"
  return table.concat(out)
end

local function column(i) -- 1 -> A ... 26 -> Z, 27 -> AA
  local s = ""
  while i > 0 do
    local r = (i - 1) % 26
    s = string.char(65 + r) .. s
    i = math.floor((i - 1) / 26)
  end
  return s
end

-- An XLSX workbook of one sheet holding `rows` (arrays of strings and numbers).
function M.xlsx(rows)
  local NS = "http://schemas.openxmlformats.org/"
  local sheet = { '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="' .. NS
    .. 'spreadsheetml/2006/main"><sheetData>' }
  for r, row in ipairs(rows) do
    sheet[#sheet + 1] = '<row r="' .. r .. '">'
    for c, v in ipairs(row) do
      local ref = column(c) .. r
      if type(v) == "number" then
        sheet[#sheet + 1] = ('<c r="%s"><v>%s</v></c>'):format(ref, tostring(v))
      else
        sheet[#sheet + 1] = ('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>'):format(ref, xml_escape(v))
      end
    end
    sheet[#sheet + 1] = "</row>"
  end
  sheet[#sheet + 1] = "</sheetData></worksheet>"
  local head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
  return zip.archive{
    { name = "[Content_Types].xml", data = head .. '<Types xmlns="' .. NS .. 'package/2006/content-types">'
      .. '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      .. '<Default Extension="xml" ContentType="application/xml"/>'
      .. '<Override PartName="/xl/workbook.xml" ContentType="application/'
      .. 'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      .. '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
      .. 'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>' },
    { name = "_rels/.rels", data = head .. '<Relationships xmlns="' .. NS .. 'package/2006/relationships">'
      .. '<Relationship Id="rId1" Type="' .. NS .. 'officeDocument/2006/relationships/officeDocument"'
      .. ' Target="xl/workbook.xml"/></Relationships>' },
    { name = "xl/workbook.xml", data = head .. '<workbook xmlns="' .. NS .. 'spreadsheetml/2006/main"'
      .. ' xmlns:r="' .. NS .. 'officeDocument/2006/relationships"><sheets>'
      .. '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>' },
    { name = "xl/_rels/workbook.xml.rels", data = head .. '<Relationships xmlns="' .. NS
      .. 'package/2006/relationships"><Relationship Id="rId1" Type="' .. NS
      .. 'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>' },
    { name = "xl/worksheets/sheet1.xml", data = table.concat(sheet) },
  }
end

-- Not a workbook (see the top): the OLE2 compound-file signature, then a note.
function M.xls(title)
  return "\208\207\17\224\161\177\26\225" .. "navixy-lua fake XLS: " .. title .. "\n"
end

-- CSV as raw-data.md specifies it: strings in double quotes (a quote doubled), numbers
-- bare, `sep` between values (default ","), LF between rows, nothing for NULL.
function M.csv(rows, sep)
  local lines = {}
  for i, row in ipairs(rows) do
    local cells = {}
    for j = 1, #row do
      local v = row[j]
      if type(v) == "number" then cells[j] = tostring(v)
      elseif v == false or v == nil then cells[j] = ""
      else cells[j] = '"' .. tostring(v):gsub('"', '""') .. '"' end
    end
    lines[i] = table.concat(cells, sep or ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- The parquet magic at both ends around a note: a type check, not a readable file.
function M.parquet(note) return "PAR1" .. note .. "PAR1" end

return M
