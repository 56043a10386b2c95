// Package fakestub is an in-memory Hyperledger Fabric ledger for unit tests
// of the mtrace chaincode.
//
// fabric-chaincode-go v2 ships no mock stub, so this package provides one.
// A Ledger holds committed world state, per-key history, key-level
// endorsement policies (SBE) and the committed chaincode events. A Stub is
// one transaction against it and implements shim.ChaincodeStubInterface.
// Ledger.Invoke runs a chaincode (for example the real contract-api
// dispatcher, with its JSON schema validation) and commits only when the
// response status is shim.OK; Ledger.Query runs one and never commits.
//
// What it models, following Fabric v3.1 with a LevelDB state database:
//
//   - Reads see committed state only: a transaction never reads its own
//     uncommitted writes (GetState, GetMultipleStates, range queries,
//     GetStateValidationParameter).
//   - Writes, deletes and SBE policy changes are collected and applied
//     together by Commit as one transaction with a new, deterministic TxID.
//     A policy set on a key that does not exist after the transaction is
//     dropped, and deleting a key drops its policy, as in Fabric.
//   - Composite keys use Fabric's format ("\x00" objectType "\x00" attr
//     "\x00" ...) and its validation. Range queries over simple keys never
//     return composite keys; partial composite key queries return only
//     composite keys. Results are sorted bytewise, as LevelDB sorts them.
//   - Paginated queries: the bookmark is the key that starts the next page
//     ("" when the range is exhausted), FetchedRecordsCount the number of
//     records in this page. As in Fabric, a transaction that has written may
//     not run a paginated query, and one that ran a paginated query may not
//     write.
//   - GetHistoryForKey returns committed modifications newest first, as
//     Fabric has done since v2.0 (the interface documentation says so); a
//     delete has IsDelete set and no value. Policy-only changes add no
//     history, as in Fabric.
//   - MVCC: Commit fails with ErrMVCCReadConflict when a key this
//     transaction read has been changed by another committed transaction
//     since, and with ErrPhantomRead when a (non-paginated) range query
//     would now return different keys. Blind writes never conflict.
//   - Write batches (StartWriteBatch/FinishWriteBatch) collect writes and
//     hand them over on FinishWriteBatch or at the end of Invoke, like the
//     shim does.
//   - SetEvent keeps one event per transaction; a later call replaces an
//     earlier one.
//
// What it does not model: endorsement policy evaluation (a policy is stored
// and returned, never checked), blocks and ordering (every committed
// transaction is its own block), private data, rich (CouchDB) queries,
// chaincode-to-chaincode calls, and signed proposals (GetSignedProposal
// returns an empty one). It is stricter than Fabric in three places, to
// surface bugs early: keys must not be empty, PutState rejects an empty
// value (Fabric would silently record it as a delete), and a negative page
// size is an error.
//
// Time is deterministic: every transaction gets the ledger's current
// time (2026-11-20T10:00:00Z unless SetTime or Advance changed it), and
// TxIDs are derived from a counter, so test runs are repeatable.
package fakestub
