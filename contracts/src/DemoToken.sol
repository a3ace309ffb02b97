// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title The demo's airdrop token: OpenZeppelin's ERC-20, nothing added
/// @notice The whole supply is minted once, to `holder`; the deployer then funds the airdrop.
contract DemoToken is ERC20 {
    constructor(string memory name_, string memory symbol_, address holder, uint256 supply)
        ERC20(name_, symbol_)
    {
        _mint(holder, supply);
    }
}
