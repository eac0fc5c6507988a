package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rs/xid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// send serves req through h; unlike perform it sets headers exactly, empty or odd values included.
func send(h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// assertRequestID checks the Request-Id header is a fresh xid and returns it.
func assertRequestID(t *testing.T, h http.Header) string {
	t.Helper()
	rid := h.Get("Request-Id")
	require.Regexp(t, `^[0-9a-v]{20}$`, rid, "Request-Id is an xid")
	_, err := xid.FromString(rid)
	require.NoError(t, err)
	return rid
}

// assertJSONAPIErrors checks a JSON:API error answer as the real framework writes it: the media
// type, two-space indentation, every error's id the Request-Id and status the HTTP status, no
// empty members. It returns the error objects.
func assertJSONAPIErrors(t *testing.T, status int, h http.Header, body []byte) []map[string]any {
	t.Helper()
	assert.Equal(t, mediaJSONAPI, h.Get("Content-Type"))
	assert.Equal(t, strconv.Itoa(len(body)), h.Get("Content-Length"))
	rid := assertRequestID(t, h)
	assertIndented(t, body)
	errs := decodeErrors(t, body)
	for i, e := range errs {
		assert.Equal(t, rid, e["id"], "errors[%d].id is the Request-Id", i)
		assert.Equal(t, strconv.Itoa(status), e["status"], "errors[%d].status is the HTTP status", i)
		assert.NotEmpty(t, e["title"], "errors[%d] has a title", i)
		assert.NotEmpty(t, e["detail"], "errors[%d] has a detail", i)
		for k, v := range e {
			assert.NotContains(t, []any{"", nil}, v, "errors[%d].%s is empty; the real server omits empty members", i, k)
			if m, ok := v.(map[string]any); ok {
				assert.NotEmpty(t, m, "errors[%d].%s is an empty object", i, k)
			}
		}
	}
	return errs
}

// assertIndented checks body is JSON written with two-space indentation and a final newline.
func assertIndented(t *testing.T, body []byte) {
	t.Helper()
	var compact, indented bytes.Buffer
	require.NoError(t, json.Compact(&compact, body), "body is JSON: %s", body)
	require.NoError(t, json.Indent(&indented, compact.Bytes(), "", "  "))
	assert.Equal(t, indented.String()+"\n", string(body))
}

func TestSelectionPrecedence(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	off := newTestServer(t, Options{AuthOff: true})
	bearer := []string{"Bearer test-token"}
	tests := []struct {
		name     string
		server   *Server
		provider string
		header   http.Header
		scenario string
		reason   string
		status   int
	}{
		// The auth gate beats everything.
		{"no authorization", s, "mobypay", http.Header{}, "unauthorized", "auth", 401},
		{"empty authorization", s, "mobypay", http.Header{"Authorization": {""}}, "unauthorized", "auth", 401},
		{"basic scheme", s, "mobypay", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "unauthorized", "auth", 401},
		{"bearer without token", s, "mobypay", http.Header{"Authorization": {"Bearer "}}, "unauthorized", "auth", 401},
		{"bearer with blanks", s, "mobypay", http.Header{"Authorization": {"Bearer    "}}, "unauthorized", "auth", 401},
		{"bare bearer", s, "mobypay", http.Header{"Authorization": {"Bearer"}}, "unauthorized", "auth", 401},
		{"bearer glued to token", s, "mobypay", http.Header{"Authorization": {"Bearerabc"}}, "unauthorized", "auth", 401},
		{"gate beats header", s, "mobypay", http.Header{"X-Mock-Scenario": {"success"}}, "unauthorized", "auth", 401},
		{"gate beats unknown header name", s, "mobypay", http.Header{"X-Mock-Scenario": {"nope"}}, "unauthorized", "auth", 401},
		{"gate beats prefer", s, "mobypay", http.Header{"Prefer": {"example=success"}}, "unauthorized", "auth", 401},
		{"gate beats provider", s, "unlinked", http.Header{}, "unauthorized", "auth", 401},
		{"scheme is case-insensitive", s, "mobypay", http.Header{"Authorization": {"bearer abc"}}, "success", "default", 200},
		{"auth off: no authorization", off, "mobypay", http.Header{}, "success", "default", 200},
		{"auth off: header still selects", off, "mobypay", http.Header{"X-Mock-Scenario": {"not-found"}}, "not-found", "header", 404},
		// Then the header, Prefer, the provider list and the default, in that order.
		{"header", s, "mobypay", http.Header{"Authorization": bearer, "X-Mock-Scenario": {"internal-error"}}, "internal-error", "header", 500},
		{"header beats prefer", s, "mobypay", http.Header{"Authorization": bearer, "X-Mock-Scenario": {"not-found"}, "Prefer": {"example=internal-error"}}, "not-found", "header", 404},
		{"header beats provider", s, "unlinked", http.Header{"Authorization": bearer, "X-Mock-Scenario": {"success"}}, "success", "header", 200},
		{"header may pick unauthorized", s, "mobypay", http.Header{"Authorization": bearer, "X-Mock-Scenario": {"unauthorized"}}, "unauthorized", "header", 401},
		{"prefer example", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"example=missing-linked-identity"}}, "missing-linked-identity", "prefer", 401},
		{"prefer beats provider", s, "unlinked", http.Header{"Authorization": bearer, "Prefer": {"example=not-found"}}, "not-found", "prefer", 404},
		{"prefer example beats code", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"code=404, example=internal-error"}}, "internal-error", "prefer", 500},
		{"prefer example beats code in another value", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"code=404", "example=internal-error"}}, "internal-error", "prefer", 500},
		{"prefer code 200 is the default", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"code=200"}}, "success", "prefer", 200},
		{"prefer code 401 is the first 401 built-in", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"code=401"}}, "missing-linked-identity", "prefer", 401},
		{"prefer code 404", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {`code="404"`}}, "not-found", "prefer", 404},
		{"prefer code 500", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"return=minimal; code=500"}}, "internal-error", "prefer", 500},
		{"prefer code 503", s, "mobypay", http.Header{"Authorization": bearer, "Prefer": {"code=503"}}, "service-unavailable", "prefer", 503},
		{"other preferences fall through", s, "unlinked", http.Header{"Authorization": bearer, "Prefer": {"return=representation"}}, "missing-linked-identity", "provider", 401},
		{"provider unlinked", s, "unlinked", http.Header{"Authorization": bearer}, "missing-linked-identity", "provider", 401},
		{"provider unknown", s, "unknown", http.Header{"Authorization": bearer}, "not-found", "provider", 404},
		{"provider broken", s, "broken", http.Header{"Authorization": bearer}, "internal-error", "provider", 500},
		{"provider names are case-sensitive", s, "Unlinked", http.Header{"Authorization": bearer}, "success", "default", 200},
		{"default", s, "mobypay", http.Header{"Authorization": bearer}, "success", "default", 200},
		{"empty header is no header", s, "mobypay", http.Header{"Authorization": bearer, "X-Mock-Scenario": {""}}, "success", "default", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{tokenURL(tt.provider), "/federated-identities/" + tt.provider + "/token"} {
				w := send(tt.server.Handler(), http.MethodPost, path, tt.header)
				require.Equal(t, tt.status, w.Code, "%s: %s", path, w.Body.String())
				assert.Equal(t, tt.scenario, w.Header().Get("X-Mock-Scenario"), path)
				assert.Equal(t, tt.reason, w.Header().Get("X-Mock-Selected-By"), path)
				assert.Empty(t, w.Header().Get("X-Mock-Error"), path)
				assertRequestID(t, w.Header())
				if tt.status == http.StatusUnauthorized && tt.reason == "auth" {
					errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
					assert.Equal(t, "unauthorized", errs[0]["code"], "a missing token is not missing-linked-identity")
				}
			}
		})
	}
}

func TestPreferCodeOrder(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		// User scenarios sort after the built-ins whatever their names.
		"aaa-token.yaml": {Data: []byte("status: 200\nbody: {access_token: a, token_type: Bearer, expires_in: 1}\n")},
		"aaa-401.yaml":   {Data: []byte("status: 401\nbody: {errors: [{code: x, title: t, detail: d}]}\n")},
		"teapot.yaml":    {Data: []byte("status: 418\nbody: {}\n")},
		"zz-teapot.yaml": {Data: []byte("status: 418\nbody: {}\n")},
		"aa-teapot.yaml": {Data: []byte("status: 418\nbody: {}\n")},
		"hang-418.yaml":  {Data: []byte("fault: hang\n")},
		"seq-418.yaml":   {Data: []byte("sequence: [teapot]\n")},
	}
	s := newTestServer(t, Options{Files: files})
	// A default with another status comes first for that status.
	redefined := newTestServer(t, Options{Files: fstest.MapFS{
		"success.yaml": {Data: []byte("status: 404\nbody: {errors: [{code: x, title: t, detail: d}]}\n")},
	}})
	tests := []struct {
		server   *Server
		code     string
		scenario string
	}{
		{s, "200", "success"},
		{s, "401", "missing-linked-identity"},
		{s, "418", "aa-teapot"},
		{redefined, "404", "success"},
		{redefined, "401", "missing-linked-identity"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"-"+tt.scenario, func(t *testing.T) {
			t.Parallel()
			w := postToken(t, tt.server.Handler(), "mobypay", "Prefer: code="+tt.code)
			require.Equal(t, tt.code, strconv.Itoa(w.Code), w.Body.String())
			assert.Equal(t, tt.scenario, w.Header().Get("X-Mock-Scenario"))
			assert.Equal(t, "prefer", w.Header().Get("X-Mock-Selected-By"))
		})
	}
	t.Run("no scenario with the code", func(t *testing.T) {
		t.Parallel()
		w := postToken(t, redefined.Handler(), "mobypay", "Prefer: code=418")
		assert.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, "unknown-scenario", w.Header().Get("X-Mock-Error"))
	})
}

func TestUnknownScenarioIsTheMocksOwnError(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	known := strings.Join(scenarioNames(s), ", ")
	tests := []struct {
		name   string
		header string
		detail string
	}{
		{"header", "X-Mock-Scenario: nope", `X-Mock-Scenario "nope" matches no scenario; known: ` + known},
		{"header with path separators", "X-Mock-Scenario: ../../etc/passwd", `X-Mock-Scenario "../../etc/passwd" matches no scenario`},
		{"header case matters", "X-Mock-Scenario: Success", `"Success" matches no scenario`},
		{"header with a file extension", "X-Mock-Scenario: success.yaml", `"success.yaml" matches no scenario`},
		{"long header is cut", "X-Mock-Scenario: " + strings.Repeat("n", 5000), `"` + strings.Repeat("n", 100) + `..." matches no scenario`},
		{"prefer example", "Prefer: example=nope", `Prefer: example= "nope" matches no scenario; known: ` + known},
		{"prefer code no scenario has", "Prefer: code=299", `Prefer: code= "299" matches no scenario; known: ` + known},
		{"prefer code not a status", "Prefer: code=abc", `Prefer: code= "abc" matches no scenario`},
		{"prefer code out of range", "Prefer: code=600", `Prefer: code= "600" matches no scenario`},
		{"prefer unknown example beats a good code", "Prefer: code=404, example=nope", `"nope" matches no scenario`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{tokenURL("mobypay"), "/federated-identities/mobypay/token"} {
				w := perform(t, s.Handler(), http.MethodPost, path, "", "Authorization: Bearer x", tt.header)
				require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
				assert.Equal(t, "unknown-scenario", w.Header().Get("X-Mock-Error"))
				assert.Empty(t, w.Header().Get("X-Mock-Scenario"), "nothing answered")
				errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
				require.Len(t, errs, 1)
				assert.Equal(t, "unknown-scenario", errs[0]["code"])
				assert.Equal(t, "Unknown mock scenario", errs[0]["title"])
				assert.Contains(t, errs[0]["detail"], tt.detail)
			}
		})
	}
}

func TestRequestBodyIsIgnored(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	bodies := []struct{ contentType, body string }{
		{"", ""},
		{"application/vnd.api+json", ""},
		{"application/json", `{"scenario": "not-found", "provider": "unlinked"}`},
		{"application/x-www-form-urlencoded", "grant_type=refresh_token&scenario=not-found"},
		{"text/plain", "\x00\xff not json at all"},
		{"application/json", strings.Repeat("[", 100000)},
	}
	for _, b := range bodies {
		headers := []string{"Accept: application/vnd.api+json"}
		if b.contentType != "" {
			headers = append(headers, "Content-Type: "+b.contentType)
		}
		w := postTokenBody(t, s.Handler(), "mobypay", b.body, headers...)
		assert.Equal(t, http.StatusOK, w.Code, "body %.40q", b.body)
		assert.Equal(t, "success", w.Header().Get("X-Mock-Scenario"))
		assert.Equal(t, "default", w.Header().Get("X-Mock-Selected-By"))
	}
}

// postTokenBody is postToken with a request body.
func postTokenBody(t *testing.T, h http.Handler, provider, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return perform(t, h, http.MethodPost, tokenURL(provider), body, append([]string{"Authorization: Bearer test-token"}, headers...)...)
}

func TestResponseFidelity(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	tests := []struct {
		scenario    string
		status      int
		contentType string
		code        string
	}{
		{"success", 200, mediaJSON, ""},
		{"missing-linked-identity", 401, mediaJSONAPI, "missing-linked-identity"},
		{"unauthorized", 401, mediaJSONAPI, "unauthorized"},
		{"not-found", 404, mediaJSONAPI, "not-found"},
		{"internal-error", 500, mediaJSONAPI, "internal-server-error"},
		{"service-unavailable", 503, "text/html", ""},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			ids := map[string]bool{}
			for range 3 {
				w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: "+tt.scenario)
				require.Equal(t, tt.status, w.Code)
				assert.Equal(t, tt.contentType, w.Header().Get("Content-Type"))
				assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
				ids[assertRequestID(t, w.Header())] = true
				switch {
				case tt.code != "":
					errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
					require.Len(t, errs, 1)
					assert.Equal(t, tt.code, errs[0]["code"])
				case tt.status == http.StatusOK:
					assertIndented(t, w.Body.Bytes())
				default:
					assert.False(t, json.Valid(w.Body.Bytes()), "a gateway page is not JSON")
				}
			}
			assert.Len(t, ids, 3, "every response has its own Request-Id")
		})
	}
	t.Run("the spec's example 401", func(t *testing.T) {
		t.Parallel()
		w := postToken(t, s.Handler(), "unlinked")
		require.Equal(t, http.StatusUnauthorized, w.Code)
		rid := w.Header().Get("Request-Id")
		want := `{"errors": [{"id": "` + rid + `", "title": "Missing linked identity for authorized access",
			"detail": "Linked identity is needed to access this resource, please check why the user does not have a linked identity",
			"status": "401", "code": "missing-linked-identity"}]}`
		assert.JSONEq(t, want, w.Body.String())
	})
	t.Run("not-found names the provider", func(t *testing.T) {
		t.Parallel()
		w := postToken(t, s.Handler(), "unknown")
		errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
		assert.Equal(t, "No identity provider named unknown is configured", errs[0]["detail"])
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	const origin = "http://localhost:5173"
	t.Run("preflight echoes origin and requested headers", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{tokenURL("mobypay"), "/federated-identities/mobypay/token", "/__admin/scenario"} {
			w := send(s.Handler(), http.MethodOptions, path, http.Header{
				"Origin":                         {origin},
				"Access-Control-Request-Method":  {"POST"},
				"Access-Control-Request-Headers": {"authorization, x-mock-scenario, prefer, content-type"},
			})
			require.Equal(t, http.StatusNoContent, w.Code, path)
			h := w.Header()
			assert.Equal(t, origin, h.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
			assert.Equal(t, "authorization, x-mock-scenario, prefer, content-type", h.Get("Access-Control-Allow-Headers"))
			assert.Contains(t, h.Get("Access-Control-Allow-Methods"), "POST")
			assert.Contains(t, h.Values("Vary"), "Origin")
			assert.NotEmpty(t, h.Get("Access-Control-Max-Age"))
			assert.Zero(t, w.Body.Len())
		}
	})
	t.Run("preflight without requested headers allows the mock's", func(t *testing.T) {
		t.Parallel()
		w := send(s.Handler(), http.MethodOptions, tokenURL("mobypay"), http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}})
		require.Equal(t, http.StatusNoContent, w.Code)
		allowed := w.Header().Get("Access-Control-Allow-Headers")
		for _, h := range []string{"Authorization", "Content-Type", "X-Mock-Scenario", "X-Mock-Session", "Prefer"} {
			assert.Contains(t, allowed, h)
		}
	})
	t.Run("actual responses carry the CORS headers", func(t *testing.T) {
		t.Parallel()
		for _, hdr := range []string{"X-Mock-Scenario: success", "X-Mock-Scenario: not-found", "X-Mock-Scenario: nope"} {
			w := postToken(t, s.Handler(), "mobypay", "Origin: "+origin, hdr)
			h := w.Header()
			assert.Equal(t, origin, h.Get("Access-Control-Allow-Origin"), hdr)
			assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"), hdr)
			expose := strings.Split(h.Get("Access-Control-Expose-Headers"), ", ")
			for _, name := range []string{"Request-Id", "X-Mock-Scenario", "X-Mock-Selected-By", "X-Mock-Error"} {
				assert.Contains(t, expose, name, hdr)
			}
		}
		w := perform(t, s.Handler(), http.MethodPost, tokenURL("mobypay"), "", "Origin: "+origin)
		assert.Equal(t, http.StatusUnauthorized, w.Code, "the auth gate applies to browsers too")
		assert.Equal(t, origin, w.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("no origin, no CORS headers", func(t *testing.T) {
		t.Parallel()
		w := postToken(t, s.Handler(), "mobypay")
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
			assert.Empty(t, w.Header().Get(k), k)
		}
	})
	t.Run("OPTIONS without a preflight is not allowed", func(t *testing.T) {
		t.Parallel()
		w := send(s.Handler(), http.MethodOptions, tokenURL("mobypay"), http.Header{"Origin": {origin}})
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	})
}

func TestWrongMethodOnTheTokenPath(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, path := range []string{tokenURL("mobypay"), "/federated-identities/mobypay/token"} {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				w := send(s.EndpointHandler(), method, path, http.Header{"Authorization": {"Bearer x"}})
				require.Equal(t, http.StatusMethodNotAllowed, w.Code)
				assert.Equal(t, "POST", w.Header().Get("Allow"))
				assert.Equal(t, "method-not-allowed", w.Header().Get("X-Mock-Error"))
				errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
				assert.Equal(t, "method-not-allowed", errs[0]["code"])
				assert.Equal(t, method+" is not allowed here; allowed: POST", errs[0]["detail"])
			})
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	tests := []struct {
		handler http.Handler
		method  string
		path    string
	}{
		{s.Handler(), http.MethodPost, "/"},
		{s.Handler(), http.MethodGet, "/nope"},
		{s.Handler(), http.MethodPost, "/user/2021-2/federated-identities/mobypay"},
		{s.Handler(), http.MethodPost, "/user/2021-2/federated-identities/mobypay/token/"},
		{s.Handler(), http.MethodPost, "/user/2021-2/federated-identities/mobypay/token/extra"},
		{s.Handler(), http.MethodPost, "/user/2021-1/federated-identities/mobypay/token"},
		{s.Handler(), http.MethodPost, "/USER/2021-2/federated-identities/mobypay/token"},
		{s.Handler(), http.MethodPost, "/user/2021-2/federated-identities//token"},
		{s.Handler(), http.MethodGet, "/__admin/nope"},
		{s.EndpointHandler(), http.MethodGet, "/__admin/health"},
		{s.AdminHandler(), http.MethodPost, tokenURL("mobypay")},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			w := send(tt.handler, tt.method, tt.path, http.Header{"Authorization": {"Bearer x"}})
			require.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
			assert.Equal(t, "route-not-found", w.Header().Get("X-Mock-Error"))
			errs := assertJSONAPIErrors(t, w.Code, w.Header(), w.Body.Bytes())
			assert.Equal(t, "route-not-found", errs[0]["code"])
			assert.Contains(t, errs[0]["detail"], "nothing at "+tt.method+" ")
		})
	}
}
