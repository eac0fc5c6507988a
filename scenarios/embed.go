// Package scenarios holds the built-in scenario files and the endpoint's OpenAPI document.
package scenarios

import "embed"

// FS holds the built-in scenario files at its root.
//
//go:embed *.yaml
var FS embed.FS

// OpenAPI is the endpoint's OpenAPI document, written from its reference page.
//
//go:embed openapi/token-endpoint.yaml
var OpenAPI []byte
