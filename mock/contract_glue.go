package mock

import (
	"fmt"

	"github.com/fedtoken/fedtoken-mock/mock/contract"
	"github.com/fedtoken/fedtoken-mock/scenarios"
)

// newContract loads the endpoint's embedded OpenAPI document for load-time checks.
func newContract() (contractChecker, error) {
	v, err := contract.New(scenarios.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("embedded OpenAPI document: %w", err)
	}
	return v, nil
}
