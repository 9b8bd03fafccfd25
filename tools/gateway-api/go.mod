// Pins the Gateway API release whose standard-channel CRDs the tests install
// and whose schemas src/validate/gateway-schemas.ts is generated from
// (scripts/gateway-crds.sh fetches it; nothing here is compiled).
module ats-ingress/tools/gateway-api

go 1.24

require sigs.k8s.io/gateway-api v1.6.3
