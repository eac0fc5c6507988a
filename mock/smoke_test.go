package mock

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinsServeTheirStatus(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		scenario string
		status   int
	}{
		{"success", http.StatusOK},
		{"missing-linked-identity", http.StatusUnauthorized},
		{"unauthorized", http.StatusUnauthorized},
		{"not-found", http.StatusNotFound},
		{"internal-error", http.StatusInternalServerError},
		{"service-unavailable", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: "+tt.scenario)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, tt.scenario, w.Header().Get("X-Mock-Scenario"))
			assert.Equal(t, "header", w.Header().Get("X-Mock-Selected-By"))
			assert.Len(t, w.Header().Get("Request-Id"), 20)
			if tt.status == http.StatusOK || tt.status >= 400 && tt.status < 503 {
				var doc map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
			}
		})
	}
}
