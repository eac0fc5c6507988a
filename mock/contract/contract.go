// Package contract checks rendered responses of the token endpoint against its OpenAPI document.
//
// The document is loaded and validated once by New; the schemas it declares are then
// looked up per status and media type and applied to each body with kin-openapi's
// OpenAPI 3.0 validator. A Validator holds no mutable state, so one value serves any
// number of goroutines.
package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Path and Method name the operation the document must describe.
const (
	Path   = "/federated-identities/{identityProvider}/token"
	Method = http.MethodPost
)

// Validator checks rendered responses against the endpoint's OpenAPI document.
type Validator struct {
	// responses maps each documented status to its media types and their schemas.
	// It is built by New and never written again, which is what makes Check safe
	// for concurrent use.
	responses map[int]map[string]*openapi3.Schema
}

// New loads and validates doc (an OpenAPI 3.0 document, YAML or JSON) and prepares
// the response schemas of the operation POST Path.
func New(doc []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	// The document is self-contained; resolving a $ref over the network or the
	// file system at start-up would be slow and surprising.
	loader.IsExternalRefsAllowed = false
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: load OpenAPI document: %w", err)
	}
	// Check applies OpenAPI 3.0 semantics (nullable, exclusiveMinimum as a boolean);
	// a 3.1 document would need the JSON Schema 2020-12 validator instead.
	if !strings.HasPrefix(spec.OpenAPI, "3.0.") {
		return nil, fmt.Errorf("contract: OpenAPI version %q is not supported, want 3.0.x", spec.OpenAPI)
	}
	// Validate also checks every example against its schema, so the reference page's
	// examples in the document are proven to fit the schemas it declares.
	if err := spec.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: invalid OpenAPI document: %w", err)
	}

	item := spec.Paths.Value(Path)
	if item == nil {
		return nil, fmt.Errorf("contract: the document has no path %s", Path)
	}
	op := item.GetOperation(Method)
	if op == nil || op.Responses == nil {
		return nil, fmt.Errorf("contract: the document has no %s %s operation with responses", Method, Path)
	}

	v := &Validator{responses: make(map[int]map[string]*openapi3.Schema)}
	for key, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(key)
		if err != nil || status < 100 || status > 599 {
			// Ranges ("4XX") and "default" would make Defines ambiguous; the reference
			// page lists exact statuses only.
			return nil, fmt.Errorf("contract: response %q of %s %s: only exact statuses are supported", key, Method, Path)
		}
		media := make(map[string]*openapi3.Schema)
		for name, mt := range ref.Value.Content {
			if mt.Schema == nil || mt.Schema.Value == nil {
				return nil, fmt.Errorf("contract: response %d, media type %s: no schema", status, name)
			}
			mediaType, _, err := mime.ParseMediaType(name)
			if err != nil {
				return nil, fmt.Errorf("contract: response %d: media type %q: %w", status, name, err)
			}
			media[mediaType] = mt.Schema.Value
		}
		if len(media) == 0 {
			return nil, fmt.Errorf("contract: response %d of %s %s has no content", status, Method, Path)
		}
		v.responses[status] = media
	}
	return v, nil
}

// Defines reports whether the document lists status among the operation's responses.
func (v *Validator) Defines(status int) bool {
	_, ok := v.responses[status]
	return ok
}

// Statuses returns the documented statuses in ascending order.
func (v *Validator) Statuses() []int {
	statuses := make([]int, 0, len(v.responses))
	for s := range v.responses {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	return statuses
}

// Check reports whether a response with this status, Content-Type header value and
// body conforms to the document. A body that breaks the schema yields a *BodyError.
func (v *Validator) Check(status int, contentType string, body []byte) error {
	media, ok := v.responses[status]
	if !ok {
		return fmt.Errorf("status %d: not defined by the OpenAPI document (defined: %s)", status, joinInts(v.Statuses()))
	}
	if strings.TrimSpace(contentType) == "" {
		return fmt.Errorf("status %d: no content type, want %s", status, joinKeys(media))
	}
	// ParseMediaType lower-cases the type and drops parameters such as charset,
	// which the document does not constrain.
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("status %d: content type %q: %w", status, contentType, err)
	}
	schema, ok := media[mediaType]
	if !ok {
		return fmt.Errorf("status %d: content type %s, want %s", status, mediaType, joinKeys(media))
	}

	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("status %d: body is not JSON: %w", status, err)
	}
	// MultiErrors reports every violation at once, so a scenario author fixes a file
	// in one round; DisableSchemaErrorDetails keeps the schema and the value (which
	// may be a secret-looking token) out of the messages.
	err = schema.VisitJSON(value,
		openapi3.VisitAsResponse(),
		openapi3.MultiErrors(),
		openapi3.DisableSchemaErrorDetails(),
	)
	if err == nil {
		return nil
	}
	return &BodyError{Status: status, Violations: violations(err)}
}

// BodyError lists the ways a response body breaks the document's schema.
type BodyError struct {
	// Status is the response's status.
	Status int
	// Violations are in the order the validator found them; never empty.
	Violations []Violation
}

// Error formats the violations on one line, e.g.
// `status 200: body.expires_in: value must be an integer`.
func (e *BodyError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, vi := range e.Violations {
		parts[i] = vi.String()
	}
	return fmt.Sprintf("status %d: %s", e.Status, strings.Join(parts, "; "))
}

// Violation is one place where a body breaks the schema.
type Violation struct {
	// Path leads from the body's root to the offending value, one object key or
	// array index per element (["errors", "0", "status"]); empty for the root.
	Path []string
	// Reason says what is wrong, e.g. `property "access_token" is missing`.
	Reason string
}

// String formats the violation as `body.errors[0].status: value must be a string`.
func (vi Violation) String() string {
	return vi.Location() + ": " + vi.Reason
}

// Location renders Path in the dotted form a YAML or JSON author reads, starting at "body".
func (vi Violation) Location() string {
	var b strings.Builder
	b.WriteString("body")
	for _, key := range vi.Path {
		switch {
		case isIndex(key):
			b.WriteString("[" + key + "]")
		case isIdentifier(key):
			b.WriteString("." + key)
		default:
			b.WriteString("[" + strconv.Quote(key) + "]")
		}
	}
	return b.String()
}

// violations flattens kin-openapi's error tree into one Violation per schema error.
func violations(err error) []Violation {
	var out []Violation
	var walk func(error)
	walk = func(err error) {
		// A type switch rather than errors.As: MultiError implements As by matching
		// its first element, which would hide the others.
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner)
			}
		case *openapi3.SchemaError:
			out = append(out, violation(e))
		default:
			out = append(out, Violation{Reason: err.Error()})
		}
	}
	walk(err)
	if len(out) == 0 {
		// A MultiError with nothing in it is still a failure; never report "no problems".
		out = append(out, Violation{Reason: err.Error()})
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return strings.Compare(a.Location(), b.Location()) })
	return out
}

// violation turns one kin-openapi schema error into a Violation. A few of its reasons
// are reworded so that Path always ends at the property concerned (kin-openapi points
// at the object for an unknown property, at the property for a missing one) and the
// message does not repeat the name the location already shows.
func violation(e *openapi3.SchemaError) Violation {
	path := e.JSONPointer()
	reason := e.Reason
	last := ""
	if len(path) > 0 {
		last = path[len(path)-1]
	}
	var name string
	switch {
	case reason == "":
		reason = fmt.Sprintf("does not match the schema (%s)", e.SchemaField)
	case len(path) > 0 && reason == fmt.Sprintf("property %q is missing", last):
		reason = "required property is missing"
	case scanQuoted(reason, "property ", " is unsupported", &name):
		path = append(path, name)
		reason = "unknown property (the schema allows no others)"
	case reason == "Value is not nullable":
		reason = "value must not be null"
	}
	return Violation{Path: path, Reason: reason}
}

// scanQuoted reports whether s is prefix + a Go-quoted string + suffix, storing the
// unquoted string in name.
func scanQuoted(s, prefix, suffix string, name *string) bool {
	quoted, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return false
	}
	quoted, ok = strings.CutSuffix(quoted, suffix)
	if !ok {
		return false
	}
	unquoted, err := strconv.Unquote(quoted)
	if err != nil {
		return false
	}
	*name = unquoted
	return true
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

func joinKeys(m map[string]*openapi3.Schema) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, " or ")
}
