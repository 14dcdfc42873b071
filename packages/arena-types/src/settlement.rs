//! Settlement to Base Sepolia: the withdrawal Merkle tree, the EIP-712 batch digest and the bridge's messages.
