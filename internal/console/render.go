package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// page is what every template gets.
type page struct {
	Title  string
	S      *consoleSession // nil before sign-in
	Role   *roleSession    // the switched-to role, shown in the header
	CSRF   string
	Error  string // AWS's code and message of a refused call, or a sign-in failure
	Notice string
	Data   any
}

// fail adds a message to the page's error, after the one it has: the refusal of the change
// the person asked for comes first, then what the page could not read.
func (p *page) fail(msg string) {
	switch {
	case msg == "":
	case p.Error == "":
		p.Error = msg
	default:
		p.Error += "\n" + msg
	}
}

// templateFuncs are the helpers the templates use.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"date": func(t *time.Time) string {
			if t == nil {
				return "never"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"hasPrefix": strings.HasPrefix,
		"join":      strings.Join,
		"highlight": highlightJSON,
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
	}
}

// parsePages parses each page template with the layout around it.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes the page, buffered so that a template error is a clean 500.
func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	if p.S != nil {
		p.Role = c.sessions.role(p.S, c.opts.Now())
		p.S = c.sessions.snapshot(p.S)
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.opts.Logger.Error("console: render", "page", name, "error", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
