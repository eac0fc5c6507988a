package mock

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// TestMain quiets gin's debug output: the test binary owns the process, so it may set the mode.
func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// newTestServer builds a Server from opts, failing the test on any load error.
func newTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// tokenURL is the endpoint's full path for provider.
func tokenURL(provider string) string {
	return "/user/2021-2/federated-identities/" + provider + "/token"
}

// perform sends one request through h and returns the recorded answer; headers are "Name: value" pairs.
func perform(t testing.TB, h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for _, kv := range headers {
		k, v, ok := strings.Cut(kv, ":")
		require.True(t, ok, "header %q needs a colon", kv)
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// postToken is the common case: an authorised POST to the token endpoint.
func postToken(t testing.TB, h http.Handler, provider string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return perform(t, h, http.MethodPost, tokenURL(provider), "", append([]string{"Authorization: Bearer test-token"}, headers...)...)
}
