// Package panel serves the mock's control panel: one HTML page with its stylesheet and script,
// embedded in the binary so it works offline, calling the admin API with relative URLs.
package panel

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// Paths the panel answers; the router sends these (GET and HEAD) to Handler.
const (
	// PagePath is the panel's main address.
	PagePath = "/__admin/"
	// UIPath is the panel's alternative address.
	UIPath = "/__admin/ui"
	// AssetPrefix prefixes the stylesheet and script the page loads.
	AssetPrefix = "/__admin/ui/assets/"
)

// Listing the files (not the folder) makes a missing one a build error rather than a start-up one.
//
//go:embed assets/index.html assets/panel.css assets/panel.js
var files embed.FS

// contentSecurityPolicy allows only the panel's own files and same-origin API calls, so even a
// scenario description that slipped through as markup could neither run script nor load anything.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
	isPage      bool
}

type handler struct {
	byPath map[string]asset
}

// Handler serves the panel page at /__admin/ and /__admin/ui and its files under
// /__admin/ui/assets/; /__admin and /__admin/ui/ redirect to the page.
func Handler() http.Handler {
	h, err := newHandler()
	if err != nil {
		// The files are embedded and listed at build time, so this is a broken build, not a
		// condition a caller could handle.
		panic(err)
	}
	return h
}

func newHandler() (*handler, error) {
	load := func(name, contentType string) (asset, error) {
		body, err := files.ReadFile("assets/" + name)
		if err != nil {
			return asset{}, fmt.Errorf("panel: read embedded %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		return asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}, nil
	}
	page, err := load("index.html", "text/html; charset=utf-8")
	if err != nil {
		return nil, err
	}
	page.isPage = true
	css, err := load("panel.css", "text/css; charset=utf-8")
	if err != nil {
		return nil, err
	}
	js, err := load("panel.js", "text/javascript; charset=utf-8")
	if err != nil {
		return nil, err
	}
	return &handler{byPath: map[string]asset{
		PagePath:                  page,
		UIPath:                    page,
		AssetPrefix + "panel.css": css,
		AssetPrefix + "panel.js":  js,
	}}, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/__admin":
		redirect(w, r, PagePath)
		return
	case UIPath + "/":
		redirect(w, r, UIPath)
		return
	}
	a, ok := h.byPath[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	// no-cache means "revalidate": a new binary's panel shows at once, an unchanged one costs a 304.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", a.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if a.isPage {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// redirect keeps the query string; 302, not 301, so a browser never caches a route of ours.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, http.StatusFound)
}
