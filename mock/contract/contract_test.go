package contract_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedtoken/fedtoken-mock/mock/contract"
	"github.com/fedtoken/fedtoken-mock/scenarios"
)

const (
	jsonType    = "application/json"
	jsonAPIType = "application/vnd.api+json"
)

// Bodies as the mock renders them: two-space indented, error ids are xids.
const (
	tokenBody = `{
  "access_token": "ya29.a0AfB_byC9xq3Lk2Jm0Pq-7vXw1NnR8tY4eZ5uH6iO7pA3sD2fG1hJ0kL9mN8bV7cX6zQ",
  "token_type": "Bearer",
  "refresh_token": "1//0gTq8vLm3Kx9ZCgYIARAAGBASNwF-L9IrXk2Jp4Qw7Yt5Re6Ua3Si1Od0Pf8Gh",
  "expires_in": 3599,
  "scope": "openid profile payment"
}`
	// The 401 example of the reference page.
	missingLinkedIdentityBody = `{
  "errors": [
    {
      "id": "cbgmhslmp1o9or9kh1p0",
      "title": "Missing linked identity for authorized access",
      "detail": "Linked identity is needed to access this resource, please check why the user does not have a linked identity",
      "status": "401",
      "code": "missing-linked-identity"
    }
  ]
}`
	notFoundBody = `{
  "errors": [
    {
      "id": "d0q7c2lmp1o9or9kh1pg",
      "title": "Not Found",
      "detail": "The identity provider \"nowhere\" is not known",
      "status": "404"
    }
  ]
}`
	// Every member the reference page lists, to prove none is rejected.
	internalErrorBody = `{
  "errors": [
    {
      "id": "d0q7c2lmp1o9or9kh1q0",
      "links": {"about": "https://docs.pace.cloud/errors/internal"},
      "status": "500",
      "code": "internal-server-error",
      "title": "Internal Server Error",
      "detail": "The provider did not answer in time",
      "source": {"pointer": "/data/attributes/token", "parameter": "identityProvider"},
      "meta": {"retryable": true, "attempts": 3, "upstream": {"name": "mobypay"}}
    }
  ]
}`
)

func newValidator(t testing.TB) *contract.Validator {
	t.Helper()
	v, err := contract.New(scenarios.OpenAPI)
	require.NoError(t, err, "the embedded OpenAPI document must load")
	return v
}

func TestNewAcceptsEmbeddedDocument(t *testing.T) {
	v, err := contract.New(scenarios.OpenAPI)
	require.NoError(t, err)
	assert.Equal(t, []int{200, 401, 404, 500}, v.Statuses())
}

func TestNewRejectsBrokenDocuments(t *testing.T) {
	doc := string(scenarios.OpenAPI)
	// edit derives a broken document from the real one, failing if the edit does not apply,
	// so each case stays a one-line difference from what ships.
	edit := func(old, replacement string) string {
		require.Contains(t, doc, old, "fixture edit no longer applies")
		return strings.Replace(doc, old, replacement, 1)
	}
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"empty", "", `OpenAPI version "" is not supported`},
		{"not YAML", "openapi: [3.0.3", "load OpenAPI document"},
		{"OpenAPI 3.1", edit("openapi: 3.0.3", "openapi: 3.1.0"), `OpenAPI version "3.1.0" is not supported`},
		{"unknown type", edit("          type: integer\n", "          type: int\n"), "invalid OpenAPI document"},
		{"example breaks schema", edit("expires_in: 42", `expires_in: "42"`), "invalid OpenAPI document"},
		{"spec example without errors member", edit("              example:\n                errors:", "              example:\n                error:"), "invalid OpenAPI document"},
		{"unknown keyword", edit("minItems: 1", "minItem: 1"), "invalid OpenAPI document"},
		{"other path", edit("  /federated-identities/{identityProvider}/token:", "  /federated-identities/{identityProvider}/tokens:"), "no path /federated-identities/{identityProvider}/token"},
		{"other method", edit("    post:\n", "    get:\n"), "no POST"},
		{"status range", edit(`        "404":`, `        "4XX":`), `response "4XX"`},
		{"unresolved ref", edit(`$ref: "#/components/schemas/AccessToken"`, `$ref: "#/components/schemas/Token"`), "load OpenAPI document"},
		{"external ref", edit(`$ref: "#/components/schemas/AccessToken"`, `$ref: "other.yaml#/AccessToken"`), "load OpenAPI document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := contract.New([]byte(tt.doc))
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestDefines(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		status int
		want   bool
	}{
		{200, true}, {401, true}, {404, true}, {500, true},
		{201, false}, {400, false}, {403, false}, {429, false}, {502, false}, {503, false}, {0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			assert.Equal(t, tt.want, v.Defines(tt.status))
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
	}{
		{"realistic token", 200, jsonType, tokenBody},
		{"reference page 200 example", 200, jsonType, `{"access_token":"string","token_type":"string","refresh_token":"string","expires_in":42,"scope":"string"}`},
		{"token without optional members", 200, jsonType, `{"access_token":"a","token_type":"Bearer","expires_in":0}`},
		{"charset parameter", 200, "application/json; charset=utf-8", tokenBody},
		{"media type in upper case", 200, "Application/JSON", tokenBody},
		{"missing linked identity", 401, jsonAPIType, missingLinkedIdentityBody},
		{"plain unauthorized", 401, jsonAPIType, `{"errors":[{"id":"cbgmhslmp1o9or9kh1p0","status":"401","title":"Unauthorized","detail":"OAuth token missing or invalid"}]}`},
		{"not found", 404, jsonAPIType, notFoundBody},
		{"internal error with every member", 500, jsonAPIType + "; charset=utf-8", internalErrorBody},
		{"error object with no members", 500, jsonAPIType, `{"errors":[{}]}`},
		{"two errors", 404, jsonAPIType, `{"errors":[{"status":"404"},{"status":"404","code":"b"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NoError(t, v.Check(tt.status, tt.contentType, []byte(tt.body)))
		})
	}
}

func TestCheckRejects(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantErr     string
		// wantPaths, when set, are the paths of the *BodyError's violations, in order.
		wantPaths [][]string
	}{
		{
			name: "undefined status", status: 503, contentType: jsonAPIType, body: `{"errors":[{"status":"503"}]}`,
			wantErr: "status 503: not defined by the OpenAPI document (defined: 200, 401, 404, 500)",
		},
		{
			name: "error content type on 200", status: 200, contentType: jsonAPIType, body: tokenBody,
			wantErr: "status 200: content type application/vnd.api+json, want application/json",
		},
		{
			name: "plain JSON on 401", status: 401, contentType: "application/json; charset=utf-8", body: missingLinkedIdentityBody,
			wantErr: "status 401: content type application/json, want application/vnd.api+json",
		},
		{
			name: "text on 500", status: 500, contentType: "text/plain", body: `{"errors":[{}]}`,
			wantErr: "status 500: content type text/plain, want application/vnd.api+json",
		},
		{
			name: "no content type", status: 200, contentType: "", body: tokenBody,
			wantErr: "status 200: no content type, want application/json",
		},
		{
			name: "malformed content type", status: 200, contentType: "application/json; charset", body: tokenBody,
			wantErr: `status 200: content type "application/json; charset"`,
		},
		{
			name: "empty body", status: 200, contentType: jsonType, body: "",
			wantErr: "status 200: body is not JSON: unexpected end of JSON input",
		},
		{
			name: "truncated body", status: 401, contentType: jsonAPIType, body: missingLinkedIdentityBody[:40],
			wantErr: "status 401: body is not JSON",
		},
		{
			name: "trailing garbage", status: 200, contentType: jsonType, body: tokenBody + "}",
			wantErr: "status 200: body is not JSON: invalid character '}' after top-level value",
		},
		{
			name: "missing access_token", status: 200, contentType: jsonType, body: `{"token_type":"Bearer","expires_in":3600}`,
			wantErr:   "status 200: body.access_token: required property is missing",
			wantPaths: [][]string{{"access_token"}},
		},
		{
			name: "string expires_in", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":"3600"}`,
			wantErr:   "status 200: body.expires_in: value must be an integer",
			wantPaths: [][]string{{"expires_in"}},
		},
		{
			name: "fractional expires_in", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":3600.5}`,
			wantErr: "status 200: body.expires_in: value must be an integer",
		},
		{
			name: "null refresh_token", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":1,"refresh_token":null}`,
			wantErr: "status 200: body.refresh_token: value must not be null",
		},
		{
			name: "numeric scope", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":1,"scope":7}`,
			wantErr: "status 200: body.scope: value must be a string",
		},
		{
			name: "misspelt member", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":1,"refresh_tokn":"r"}`,
			wantErr: "status 200: body.refresh_tokn: unknown property (the schema allows no others)",
		},
		{
			name: "token wrapped in data", status: 200, contentType: jsonType, body: `{"data":` + tokenBody + `}`,
			wantErr:   "status 200: body.access_token: required property is missing; body.data: unknown property (the schema allows no others); body.expires_in: required property is missing; body.token_type: required property is missing",
			wantPaths: [][]string{{"access_token"}, {"data"}, {"expires_in"}, {"token_type"}},
		},
		{
			name: "array instead of object", status: 200, contentType: jsonType, body: `[]`,
			wantErr: "status 200: body: value must be an object",
		},
		{
			name: "error document without errors", status: 401, contentType: jsonAPIType, body: `{"title":"Unauthorized"}`,
			wantErr: "status 401: body.errors: required property is missing; body.title: unknown property (the schema allows no others)",
		},
		{
			name: "empty errors list", status: 404, contentType: jsonAPIType, body: `{"errors":[]}`,
			wantErr: "status 404: body.errors: minimum number of items is 1",
		},
		{
			name: "errors is an object", status: 500, contentType: jsonAPIType, body: `{"errors":{"status":"500"}}`,
			wantErr: "status 500: body.errors: value must be an array",
		},
		{
			name: "null errors", status: 500, contentType: jsonAPIType, body: `{"errors":null}`,
			wantErr: "status 500: body.errors: value must not be null",
		},
		{
			name: "numeric status", status: 401, contentType: jsonAPIType, body: `{"errors":[{"id":"cbgmhslmp1o9or9kh1p0","status":401}]}`,
			wantErr:   "status 401: body.errors[0].status: value must be a string",
			wantPaths: [][]string{{"errors", "0", "status"}},
		},
		{
			name: "violations in two errors", status: 404, contentType: jsonAPIType, body: `{"errors":[{"status":"404"},{"code":404,"detail":null}]}`,
			wantErr: "status 404: body.errors[1].code: value must be a string; body.errors[1].detail: value must not be null",
		},
		{
			name: "links.about not a string", status: 500, contentType: jsonAPIType, body: `{"errors":[{"links":{"about":{"href":"x"}}}]}`,
			wantErr: "status 500: body.errors[0].links.about: value must be a string",
		},
		{
			name: "unknown member of source", status: 500, contentType: jsonAPIType, body: `{"errors":[{"source":{"header":"Authorization"}}]}`,
			wantErr:   `status 500: body.errors[0].source.header: unknown property (the schema allows no others)`,
			wantPaths: [][]string{{"errors", "0", "source", "header"}},
		},
		{
			name: "meta is not an object", status: 500, contentType: jsonAPIType, body: `{"errors":[{"meta":"x"}]}`,
			wantErr: "status 500: body.errors[0].meta: value must be an object",
		},
		{
			name: "odd key is quoted", status: 200, contentType: jsonType, body: `{"access_token":"a","token_type":"Bearer","expires_in":1,"x.y z":1}`,
			wantErr: `status 200: body["x.y z"]: unknown property (the schema allows no others)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Check(tt.status, tt.contentType, []byte(tt.body))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n", "the message must fit on one line")
			if tt.wantPaths == nil {
				return
			}
			var bodyErr *contract.BodyError
			require.ErrorAs(t, err, &bodyErr)
			assert.Equal(t, tt.status, bodyErr.Status)
			paths := make([][]string, len(bodyErr.Violations))
			for i, vi := range bodyErr.Violations {
				paths[i] = vi.Path
			}
			assert.Equal(t, tt.wantPaths, paths)
		})
	}
}

func TestCheckKeepsValuesOutOfMessages(t *testing.T) {
	v := newValidator(t)
	const secret = "sk_live_do_not_log_me"
	err := v.Check(200, jsonType, []byte(`{"access_token":"`+secret+`","token_type":"Bearer","expires_in":"`+secret+`"}`))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}

// TestCheckConcurrent is meant for -race: one Validator serves every loader goroutine.
func TestCheckConcurrent(t *testing.T) {
	v := newValidator(t)
	cases := []struct {
		status int
		ct     string
		body   string
		ok     bool
	}{
		{200, jsonType, tokenBody, true},
		{401, jsonAPIType, missingLinkedIdentityBody, true},
		{200, jsonType, `{"expires_in":"1"}`, false},
		{404, jsonAPIType, `{"errors":[{"status":404}]}`, false},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(cases)*20)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				for _, c := range cases {
					err := v.Check(c.status, c.ct, []byte(c.body))
					if (err == nil) != c.ok {
						errs <- fmt.Errorf("status %d: ok=%v, got %v", c.status, c.ok, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestViolationLocation(t *testing.T) {
	tests := []struct {
		path []string
		want string
	}{
		{nil, "body"},
		{[]string{"expires_in"}, "body.expires_in"},
		{[]string{"errors", "0", "source", "pointer"}, "body.errors[0].source.pointer"},
		{[]string{"a-b"}, "body.a-b"},
		{[]string{""}, `body[""]`},
		{[]string{"1st"}, `body["1st"]`},
		{[]string{`q"uote`}, `body["q\"uote"]`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, contract.Violation{Path: tt.path}.Location())
		})
	}
}

func ExampleValidator_Check() {
	v, err := contract.New(scenarios.OpenAPI)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Check(200, "application/json", []byte(`{"access_token":"x","token_type":"Bearer","expires_in":"3600"}`)))
	fmt.Println(v.Check(401, "application/vnd.api+json", []byte(`{"errors":[{"status":401}]}`)))
	fmt.Println(v.Check(401, "application/vnd.api+json", []byte(`{"errors":[{"status":"401","code":"missing-linked-identity"}]}`)))
	// Output:
	// status 200: body.expires_in: value must be an integer
	// status 401: body.errors[0].status: value must be a string
	// <nil>
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := contract.New(scenarios.OpenAPI); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	v := newValidator(b)
	body := []byte(tokenBody)
	for b.Loop() {
		if err := v.Check(200, jsonType, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckError(b *testing.B) {
	v := newValidator(b)
	body := []byte(internalErrorBody)
	for b.Loop() {
		if err := v.Check(500, jsonAPIType, body); err != nil {
			b.Fatal(err)
		}
	}
}
