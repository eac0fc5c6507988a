package panel

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func serve(t *testing.T, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func embedded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := files.ReadFile("assets/" + name)
	require.NoError(t, err)
	return b
}

func TestHandlerServesEachPath(t *testing.T) {
	tests := []struct {
		path     string
		wantType string
		wantBody string
		wantCSP  bool
	}{
		{"/__admin/", "text/html; charset=utf-8", "<title>fedtoken-mock panel</title>", true},
		{"/__admin/ui", "text/html; charset=utf-8", "<title>fedtoken-mock panel</title>", true},
		{"/__admin/ui/assets/panel.css", "text/css; charset=utf-8", ".journal-table", false},
		{"/__admin/ui/assets/panel.js", "text/javascript; charset=utf-8", `"use strict"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := serve(t, http.MethodGet, tt.path, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.wantType, rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			assert.Regexp(t, `^"[0-9a-f]{16}"$`, rec.Header().Get("ETag"))
			assert.Contains(t, rec.Body.String(), tt.wantBody)
			if tt.wantCSP {
				assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "script-src 'self'")
			} else {
				assert.Empty(t, rec.Header().Get("Content-Security-Policy"))
			}

			head := serve(t, http.MethodHead, tt.path, nil)
			assert.Equal(t, http.StatusOK, head.Code)
			assert.Equal(t, tt.wantType, head.Header().Get("Content-Type"))
			assert.Empty(t, head.Body.String(), "HEAD has no body")
		})
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	first := serve(t, http.MethodGet, "/__admin/ui/assets/panel.js", nil)
	require.Equal(t, http.StatusOK, first.Code)
	etag := first.Header().Get("ETag")
	require.NotEmpty(t, etag)

	again := serve(t, http.MethodGet, "/__admin/ui/assets/panel.js", http.Header{"If-None-Match": {etag}})
	assert.Equal(t, http.StatusNotModified, again.Code)
	assert.Empty(t, again.Body.String())

	stale := serve(t, http.MethodGet, "/__admin/ui/assets/panel.js", http.Header{"If-None-Match": {`"0000000000000000"`}})
	assert.Equal(t, http.StatusOK, stale.Code)

	other := serve(t, http.MethodGet, "/__admin/ui/assets/panel.css", nil)
	assert.NotEqual(t, etag, other.Header().Get("ETag"), "each file has its own ETag")
}

func TestHandlerRedirectsAndRefuses(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		target       string
		wantStatus   int
		wantLocation string
		wantAllow    string
	}{
		{"admin root without slash", http.MethodGet, "/__admin", http.StatusFound, "/__admin/", ""},
		{"ui with trailing slash keeps query", http.MethodGet, "/__admin/ui/?x=1", http.StatusFound, "/__admin/ui?x=1", ""},
		{"unknown asset", http.MethodGet, "/__admin/ui/assets/nope.js", http.StatusNotFound, "", ""},
		{"embedded folder is not listed", http.MethodGet, "/__admin/ui/assets/", http.StatusNotFound, "", ""},
		{"post to page", http.MethodPost, "/__admin/", http.StatusMethodNotAllowed, "", "GET, HEAD"},
		{"delete asset", http.MethodDelete, "/__admin/ui/assets/panel.js", http.StatusMethodNotAllowed, "", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, tt.method, tt.target, nil)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, tt.wantLocation, rec.Header().Get("Location"))
			assert.Equal(t, tt.wantAllow, rec.Header().Get("Allow"))
		})
	}
}

// pageRefs returns every src and href in the page, and whether any <script> or <style> carries
// inline code or any element an inline style or event handler (the CSP would block them).
func pageRefs(t *testing.T) (refs []string, inline []string) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(embedded(t, "index.html")))
	inScript := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return refs, inline
		case html.TextToken:
			if inScript && strings.TrimSpace(string(z.Text())) != "" {
				inline = append(inline, "inline script: "+string(z.Text()))
			}
		case html.EndTagToken:
			inScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data == "style" {
				inline = append(inline, "<style> element")
			}
			inScript = tok.Data == "script"
			for _, a := range tok.Attr {
				switch {
				case a.Key == "src" || a.Key == "href":
					refs = append(refs, a.Val)
				case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
					inline = append(inline, tok.Data+" "+a.Key+"="+a.Val)
				}
			}
		}
	}
}

func TestPageReferencesOnlyLocalAssets(t *testing.T) {
	refs, inline := pageRefs(t)
	require.NotEmpty(t, refs)
	assert.Empty(t, inline, "no inline code or style: the Content-Security-Policy forbids it")

	for _, base := range []string{"http://mock.test/__admin/", "http://mock.test/__admin/ui"} {
		b, err := url.Parse(base)
		require.NoError(t, err)
		for _, ref := range refs {
			if strings.HasPrefix(ref, "#") || ref == "data:," {
				continue
			}
			u, err := url.Parse(ref)
			require.NoError(t, err, ref)
			assert.Empty(t, u.Scheme, "%q must be relative", ref)
			assert.Empty(t, u.Host, "%q must not name a host", ref)
			resolved := b.ResolveReference(u)
			rec := serve(t, http.MethodGet, resolved.RequestURI(), nil)
			assert.Equal(t, http.StatusOK, rec.Code, "%q from %s resolves to %s", ref, base, resolved.Path)
		}
	}

	external := regexp.MustCompile(`(?i)\b(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(\s*['"]?(https?:|//)`)
	for _, name := range []string{"index.html", "panel.css", "panel.js"} {
		assert.NotRegexp(t, `(?i)https?://`, string(embedded(t, name)), "%s must not name any http(s) URL", name)
		assert.NotRegexp(t, external, string(embedded(t, name)), "%s must not load anything from elsewhere", name)
	}
}

func TestScriptNeverParsesDataAsMarkup(t *testing.T) {
	js := string(embedded(t, "panel.js"))
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style\""} {
		assert.NotContains(t, js, sink)
	}
	assert.Contains(t, js, "textContent", "text goes in as text")
}

func TestScriptElementIDsExistInPage(t *testing.T) {
	js := string(embedded(t, "panel.js"))
	page := string(embedded(t, "index.html"))
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		assert.False(t, ids[m[1]], "id %q appears twice", m[1])
		ids[m[1]] = true
	}
	used := regexp.MustCompile(`\$\("([^"]+)"\)`).FindAllStringSubmatch(js, -1)
	require.NotEmpty(t, used)
	for _, m := range used {
		assert.True(t, ids[m[1]], "the script looks up #%s, which the page lacks", m[1])
	}
	// Every form control has a label, so it is reachable and named for keyboard and screen reader users.
	for _, m := range regexp.MustCompile(`(?s)<(input|select)\b[^>]*>`).FindAllString(page, -1) {
		id := regexp.MustCompile(`\bid="([^"]+)"`).FindStringSubmatch(m)
		require.NotNil(t, id, "control without id: %s", m)
		wrapped := regexp.MustCompile(`(?s)<label\b[^>]*>[^<]*` + regexp.QuoteMeta(m))
		assert.True(t, wrapped.MatchString(page) || strings.Contains(page, `for="`+id[1]+`"`), "control %s has no label", id[1])
	}
}

func TestScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found on PATH: cannot syntax-check panel.js")
	}
	path := filepath.Join(t.TempDir(), "panel.js")
	require.NoError(t, os.WriteFile(path, embedded(t, "panel.js"), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--check", path).CombinedOutput()
	assert.NoError(t, err, "node --check panel.js:\n%s", out)
}
