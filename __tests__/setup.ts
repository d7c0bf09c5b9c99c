import { Testing } from "cdktf";

// Adds cdktf's toHaveResource/toHaveResourceWithProperties/toHaveDataSource... matchers.
Testing.setupJest();
