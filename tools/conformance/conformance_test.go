// The upstream Gateway API conformance suite, unchanged: the entry point the
// suite's own conformance_test.go uses. Every option comes from the suite's
// flags (sigs.k8s.io/gateway-api/conformance/utils/flags) and the cluster
// from the kubeconfig in KUBECONFIG; nothing here changes what it tests.
package conformance_test

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
