// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ArenaToken
/// @notice The ERC-20 that Arena's rewards settle into on Base. Only the settlement contract that
/// deployed it can mint, and it mints only against a Merkle leaf of a batch that a threshold of
/// attesters signed, so the supply on Base never exceeds what the bridge locked on the Cosmos side.
/// @dev 6 decimals, like the cw20 on the Cosmos side: a leaf's amount is the cw20 amount, 1:1, with
/// no scaling step in the bridge, the relayer or this contract where rounding could lose or invent
/// value.
contract ArenaToken is ERC20 {
    /// @notice The settlement contract, the only account allowed to mint. Fixed at deployment.
    address public immutable settlement;

    /// @notice Someone other than the settlement contract tried to mint.
    error OnlySettlement(address caller);

    /// @dev Deployed by ArenaSettlement's constructor, so `msg.sender` is the settlement contract.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        settlement = msg.sender;
    }

    /// @notice Mints `amount` to `to`. Callable by the settlement contract only.
    function mint(address to, uint256 amount) external {
        if (msg.sender != settlement) revert OnlySettlement(msg.sender);
        _mint(to, amount);
    }

    /// @notice 6, the cw20's decimals: amounts cross the bridge unchanged.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
