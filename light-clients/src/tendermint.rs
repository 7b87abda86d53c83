//! tendermint light client (in progress).
