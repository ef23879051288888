"""AWS's own prices for Bedrock: the Price List catalogue (`price_list`) and its daily cache (`cache`)."""
