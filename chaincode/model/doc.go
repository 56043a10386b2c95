// Package model is the ledger's vocabulary: batches of recovered material,
// their masses, materials and forms, the participants and their roles, the
// EPCIS-shaped events, and the rules that every change must obey (mass
// balance, recycled content, identifier and text limits).
//
// It has no Fabric imports. The chaincode enforces these rules on the
// ledger, and the client uses the same types to build requests and read
// answers, so there is exactly one definition of a batch.
package model
