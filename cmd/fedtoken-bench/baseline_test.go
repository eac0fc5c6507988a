package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/rs/xid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var token32 = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)

func TestBaselineSuccess(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	t.Cleanup(srv.Close)

	seen := map[string]bool{}
	for range 3 {
		resp, body, err := post(context.Background(), srv.URL+tokenPath, []string{"Authorization: Bearer x"})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		_, err = xid.FromString(resp.Header.Get("Request-Id"))
		assert.NoError(t, err, "Request-Id is an xid")

		var tok baselineToken
		require.NoError(t, json.Unmarshal(body, &tok))
		assert.Regexp(t, token32, tok.AccessToken)
		assert.Regexp(t, token32, tok.RefreshToken)
		assert.NotEqual(t, tok.AccessToken, tok.RefreshToken)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.Positive(t, tok.ExpiresIn)
		assert.NotEmpty(t, tok.Scope)
		seen[tok.AccessToken] = true
	}
	assert.Len(t, seen, 3, "every request draws a fresh token")
}

func TestBaselineMissingLinkedIdentity(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	t.Cleanup(srv.Close)

	resp, body, err := post(context.Background(), srv.URL+tokenPath, loadPaths[1].Headers)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "application/vnd.api+json", resp.Header.Get("Content-Type"))
	assert.NotEmpty(t, resp.Header.Get("Request-Id"))
	assert.Regexp(t, `^\{\n  "errors": \[\n    \{\n      "id": "[0-9a-z]{20}",\n      "status": "401",`, string(body), "two-space indented like the mock")

	var doc baselineErrors
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Len(t, doc.Errors, 1)
	assert.Equal(t, baselineError{
		ID: doc.Errors[0].ID, Status: "401", Code: missingScenario,
		Title:  "Missing linked identity for authorized access",
		Detail: "Linked identity is needed to access this resource, please check why the user does not have a linked identity",
	}, doc.Errors[0])
}

func TestBaselineRoutes(t *testing.T) {
	h := baselineHandler()
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/user/2021-2/federated-identities/other/token", http.StatusOK},
		{http.MethodGet, tokenPath, http.StatusMethodNotAllowed},
		{http.MethodPost, "/user/2021-2/federated-identities/mobypay", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.want, rec.Code)
		})
	}
}

func TestProbe(t *testing.T) {
	base := httptest.NewServer(baselineHandler())
	t.Cleanup(base.Close)
	shortToken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Request-Id", "x")
		_, _ = w.Write([]byte(`{"access_token":"abc"}`))
	}))
	t.Cleanup(shortToken.Close)

	for _, lp := range loadPaths {
		note, err := probe(context.Background(), base.URL+tokenPath, lp)
		require.NoError(t, err, lp.Name)
		assert.Empty(t, note, lp.Name)
	}
	note, err := probe(context.Background(), shortToken.URL, loadPaths[0])
	require.NoError(t, err)
	assert.Equal(t, "access_token has 3 characters, the baseline's 32", note)

	_, err = probe(context.Background(), shortToken.URL, loadPaths[1])
	require.Error(t, err, "a 200 where the path wants 401 must stop the run")
	assert.Contains(t, err.Error(), "status 200, want 401")
}

func TestWriteScenarios(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeScenarios(dir, 12))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 12)
	assert.Equal(t, "s0001.yaml", entries[0].Name())
	assert.Equal(t, "s0012.yaml", entries[11].Name())

	tokens := map[string]bool{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		var sc struct {
			Description string         `yaml:"description"`
			Status      int            `yaml:"status"`
			Body        map[string]any `yaml:"body"`
		}
		require.NoError(t, yaml.UnmarshalWithOptions(b, &sc, yaml.Strict()), e.Name())
		assert.Equal(t, 200, sc.Status)
		assert.Equal(t, []string{"access_token", "expires_in", "refresh_token", "scope", "token_type"}, slices.Sorted(maps.Keys(sc.Body)))
		tokens[fmt.Sprint(sc.Body["access_token"])] = true
	}
	assert.Len(t, tokens, 12, "each file is distinct")
}
