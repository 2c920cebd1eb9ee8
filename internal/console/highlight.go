package console

import (
	"html/template"
	"strings"
)

// highlightJSON marks up a JSON document for reading: keys, strings, numbers and literals in
// spans the stylesheet colours. Everything is escaped; a document that is not JSON is still
// shown, as well as its characters allow.
func highlightJSON(doc string) template.HTML {
	var b strings.Builder
	span := func(class, text string) {
		b.WriteString(`<span class="j-` + class + `">`)
		b.WriteString(template.HTMLEscapeString(text))
		b.WriteString(`</span>`)
	}
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(doc) && doc[j] != '"' {
				if doc[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(doc))
			class := "string"
			if rest := strings.TrimLeft(doc[j:], " \t\r\n"); strings.HasPrefix(rest, ":") {
				class = "key"
			}
			span(class, doc[i:j])
			i = j
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(doc) && strings.IndexByte("0123456789+-.eE", doc[j]) >= 0 {
				j++
			}
			span("number", doc[i:j])
			i = j
		case strings.HasPrefix(doc[i:], "true"), strings.HasPrefix(doc[i:], "null"):
			span("literal", doc[i:i+4])
			i += 4
		case strings.HasPrefix(doc[i:], "false"):
			span("literal", doc[i:i+5])
			i += 5
		default:
			b.WriteString(template.HTMLEscapeString(doc[i : i+1]))
			i++
		}
	}
	return template.HTML(b.String()) // every piece above was escaped
}
