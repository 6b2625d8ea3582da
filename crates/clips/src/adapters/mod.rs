//! The AWS side of the ports. Clients are built once per cold start by the caller; endpoints come
//! from the standard `AWS_ENDPOINT_URL_*` settings, which is all that differs locally.

mod dynamodb;
mod mediapackage;
mod mediapackage_vod;

pub use dynamodb::{DynamoClips, PENDING_INDEX};
pub use mediapackage::{MediaPackageHarvester, MediaPackageJobs};
pub use mediapackage_vod::MediaPackageVod;
