//! The baseline function of the cold-start and memory budgets: lambda_runtime answering every
//! event with a fixed JSON object, nothing else.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: LambdaEvent<Value>| async { Ok::<_, Error>(json!({ "hello": "world" })) })).await
}
