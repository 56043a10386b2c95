// Package epcis writes the ledger's changes as GS1 EPCIS 2.0 JSON-LD
// documents, checks documents against GS1's EPCIS 2.0 JSON schema, and
// reads captured EPCIS documents back into ledger requests.
//
// The mapping, in CBV 2.0 terms:
//
//   - a registration is an ObjectEvent, action ADD, bizStep collecting, at
//     the collection time in the collector's own time-zone offset;
//   - an offer is shipping (disposition in_transit), an acceptance
//     receiving, a rejection receiving with disposition returned, a
//     cancelled offer void_shipping; each names the owning and possessing
//     parties in sourceList and destinationList;
//   - a process is a TransformationEvent whose bizStep is the process step
//     as a prefixed name (mt:extrusion), with its transaction as
//     transformationID;
//   - a quarantine is holding (unavailable), a release mt:releasing
//     (available), an anchored document inspecting with the document's
//     SHA-256 as certificationInfo.
//
// Batches, organisations, places and processes are URIs under a base that
// the consortium chooses (see Base). Every field that EPCIS does not define
// is a prefixed name under the mt prefix, which the document's @context
// declares (see Vocab).
package epcis
