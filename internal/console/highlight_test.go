package console

import (
	"strings"
	"testing"
)

func TestHighlightJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"Effect": "Allow"}`, `{<span class="j-key">&#34;Effect&#34;</span>: <span class="j-string">&#34;Allow&#34;</span>}`},
		{`[1, -2.5e3, true, null, false]`, `[<span class="j-number">1</span>, <span class="j-number">-2.5e3</span>, <span class="j-literal">true</span>, <span class="j-literal">null</span>, <span class="j-literal">false</span>]`},
		{`"a\"b" : "<script>"`, `<span class="j-key">&#34;a\&#34;b&#34;</span> : <span class="j-string">&#34;&lt;script&gt;&#34;</span>`},
		{`"unterminated`, `<span class="j-string">&#34;unterminated</span>`},
		{`<b>not json</b>`, `&lt;b&gt;not json&lt;/b&gt;`},
	} {
		if got := string(highlightJSON(tc.in)); got != tc.want {
			t.Errorf("highlightJSON(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func FuzzHighlightJSON(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	f.Add(`"\`)
	f.Fuzz(func(t *testing.T, doc string) {
		out := string(highlightJSON(doc))
		// Nothing of the document may open a tag of its own: every < in the output is ours.
		if strings.Count(out, "<") != strings.Count(out, "<span")+strings.Count(out, "</span>") {
			t.Fatalf("highlightJSON(%q) = %q lets markup through", doc, out)
		}
	})
}
