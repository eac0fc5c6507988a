package mock

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPanicBecomesMockError checks that a handler panic is answered as the mock's own JSON:API 500,
// logged with a stack, and that the engine keeps serving afterwards.
func TestPanicBecomesMockError(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e := gin.New()
	e.Use(s.recoverPanics())
	e.GET("/boom", func(*gin.Context) { panic("boom") })
	e.GET("/fine", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	tests := []struct {
		path   string
		status int
	}{
		{"/boom", http.StatusInternalServerError},
		{"/fine", http.StatusNoContent},
		{"/boom", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
		require.Equal(t, tt.status, w.Code)
		if tt.status != http.StatusInternalServerError {
			continue
		}
		assert.Equal(t, "mock-panic", w.Header().Get("X-Mock-Error"))
		assert.Equal(t, mediaJSONAPI, w.Header().Get("Content-Type"))
		var doc errorDocument
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
		require.Len(t, doc.Errors, 1)
		assert.Equal(t, "500", doc.Errors[0].Status)
		assert.Equal(t, w.Header().Get("Request-Id"), doc.Errors[0].ID)
		assert.Contains(t, doc.Errors[0].Detail, "bug in the mock")
	}
	assert.Contains(t, logs.String(), "handler panic")
	assert.Contains(t, logs.String(), "panic_test.go", "the log line carries the stack")
}

// TestAbortPassesThrough checks that http.ErrAbortHandler, which faults use to drop a connection,
// is not turned into a 500.
func TestAbortPassesThrough(t *testing.T) {
	s := newTestServer(t, Options{})
	e := gin.New()
	e.Use(s.recoverPanics())
	e.GET("/abort", func(*gin.Context) { panic(http.ErrAbortHandler) })
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/abort", nil))
	})
}
