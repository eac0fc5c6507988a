package main

import (
	"encoding/json"
	"net/http"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/rs/xid"
)

// tokenPath is the endpoint both servers are driven on.
const tokenPath = "/user/2021-2/federated-identities/mobypay/token"

// missingScenario is the 401 scenario the second load path selects by header.
const missingScenario = "missing-linked-identity"

type baselineToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
}

type baselineError struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

type baselineErrors struct {
	Errors []baselineError `json:"errors"`
}

// baselineHandler is the bare net/http server the mock is measured against: the same work a
// hand-written fake would do (fresh tokens, a fresh id, encoding/json), and nothing else.
func baselineHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /user/2021-2/federated-identities/{provider}/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", xid.New().String())
		if r.Header.Get("X-Mock-Scenario") == missingScenario {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(http.StatusUnauthorized)
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(baselineErrors{Errors: []baselineError{{
				ID:     gofakeit.ID(),
				Status: "401",
				Code:   missingScenario,
				Title:  "Missing linked identity for authorized access",
				Detail: "Linked identity is needed to access this resource, please check why the user does not have a linked identity",
			}}})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(baselineToken{
			AccessToken:  gofakeit.Password(true, true, true, false, false, 32),
			TokenType:    "Bearer",
			RefreshToken: gofakeit.Password(true, true, true, false, false, 32),
			ExpiresIn:    3600,
			Scope:        "openid profile",
		})
	})
	return mux
}
