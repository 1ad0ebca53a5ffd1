@_exported import LiaisonProtocol
