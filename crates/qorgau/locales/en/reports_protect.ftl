err-escrow-identifier = This is not a valid identifier of that kind (a full name of at least two words, a Kazakh or Kyrgyz phone number, a 12-digit IIN or a 14-digit PIN).
err-escrow-limit = This report has already lodged the most identifiers allowed.
