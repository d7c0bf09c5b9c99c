/**
 * Region codes accepted per cloud. Terraform would only reject a typo at plan time (with credentials); checking here
 * catches it in `make synth`. Extend the list when a cloud opens a region you use.
 */
export const AWS_REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
  "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
  "il-central-1", "me-south-1", "me-central-1", "af-south-1",
  "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
  "us-gov-east-1", "us-gov-west-1",
] as const;

export const AZURE_LOCATIONS = [
  "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus", "westus2",
  "westus3", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral",
  "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "switzerlandnorth",
  "norwayeast", "swedencentral", "polandcentral", "italynorth", "spaincentral",
  "uaenorth", "qatarcentral", "israelcentral", "southafricanorth",
  "centralindia", "southindia", "westindia", "eastasia", "southeastasia", "japaneast", "japanwest",
  "koreacentral", "koreasouth", "australiaeast", "australiasoutheast", "australiacentral",
] as const;
