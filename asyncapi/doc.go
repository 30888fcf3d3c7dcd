// Package asyncapi generates an AsyncAPI 3.0 document (JSON) from a plain
// description of a service's registrations, so a service's event catalogue
// is generated from its code.
//
// The input, Model, is neutral: a service name and a list of Registrations
// (what the service handles and what it sends: kind, CloudEvents type,
// subject, payload JSON Schema). The cqrs package's Describe output maps onto
// it one to one.
//
// The mapping:
//
//   - channels = subjects. A subject with wildcard tokens ("orders.*.placed",
//     "orders.>") becomes an address with parameters ("orders.{token1}.placed",
//     "orders.{rest}"). A query's reply goes to a channel with a null address
//     (the requester's inbox), reached through the request's reply location.
//   - messages = CloudEvents types. Each message carries its payload's JSON
//     Schema, its content type, and the CloudEvents binary-mode headers
//     (ce-specversion, ce-id, ce-source, ce-type fixed to the message's type,
//     ...). Schema definitions ($defs) are moved to components.schemas and
//     references rewritten, so the document resolves on its own.
//   - operations = "receive" for what a service handles (events, commands,
//     queries, a query with its AsyncAPI 3 reply) and "send" for what it sends;
//     named "{action}_{group}_{type}" ("{action}_{type}" without a group), so
//     several services receiving one type in their own groups stay apart.
//
// FromService and FromServices build the Model from cqrs services
// (Service.Describe).
//
// Generate returns indented JSON with keys in a stable order, so the output
// is fit for a golden file and for diffs in review. Validate a document with
// AsyncAPI's own parser with scripts/check-asyncapi.sh.
package asyncapi
