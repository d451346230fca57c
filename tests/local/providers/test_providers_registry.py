"""Canary: the moto internals payctl's providers rely on. A failure here after a moto upgrade
means payctl/local/providers must be revisited before the pin moves."""

from __future__ import annotations

import inspect

import moto
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket

from payctl.local.providers import PROVIDER_MODULES, provider_classes, register_all

# Types payctl's templates use that a provider must handle (moto skips or mishandles them).
REQUIRED_TYPES = {
    "AWS::RDS::GlobalCluster", "AWS::RDS::DBCluster", "AWS::RDS::DBInstance",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::S3::BucketPolicy",
    "AWS::EC2::NetworkAcl", "AWS::EC2::NetworkAclEntry", "AWS::EC2::SubnetNetworkAclAssociation",
    "AWS::EC2::SecurityGroupEgress", "AWS::EC2::TransitGatewayAttachment", "AWS::IAM::Role",
    "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::CloudWatch::Alarm",
    "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::ServiceDiscovery::PrivateDnsNamespace", "AWS::ServiceDiscovery::Service", "AWS::Config::ConfigRule",
    "AWS::ECS::Service", "AWS::EC2::VPCEndpoint", "AWS::Scheduler::Schedule", "AWS::CloudTrail::Trail",
    "AWS::SecretsManager::Secret", "AWS::RAM::ResourceShare", "AWS::Lambda::EventInvokeConfig",
}  # fmt: skip


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == "5.2.1", (
        f"moto {moto.__version__}: the providers are written against moto 5.2.1's internals; "
        "re-run tests/local and re-measure moto's CloudFormation coverage before moving the pin"
    )


def test_type_registry_is_lru_cached_and_derived_from_direct_subclasses() -> None:
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        assert hasattr(cached, "cache_clear"), f"moto's {cached.__name__} is no longer lru_cached"
    assert "CloudFormationModel.__subclasses__()" in inspect.getsource(parsing.get_model_list), (
        "moto no longer finds CloudFormation types among CloudFormationModel's direct subclasses"
    )


def test_every_provider_is_the_model_moto_uses() -> None:
    registered = register_all()
    assert register_all() == registered  # idempotent
    model_map = parsing.get_model_map()
    classes = provider_classes()
    assert sorted(cls.TYPE for cls in classes) == registered
    assert len({cls.TYPE for cls in classes}) == len(classes), "two providers claim one type"
    for cls in classes:
        assert model_map[cls.TYPE] is cls, f"moto resolves {cls.TYPE} to {model_map[cls.TYPE]}"
        assert parsing.get_name_type_map()[cls.TYPE] == cls.NAME_PROPERTY
        assert hasattr(cls, "instances_tracked"), "moto's InstanceTrackerMeta no longer tracks models"
        assert "Gap:" in (cls.__doc__ or ""), f"{cls.__name__} does not name the moto gap it fills"
    assert not REQUIRED_TYPES - set(registered), "types without a provider"
    # a weak moto model stays defined, but the provider registered after it wins
    assert issubclass(FakeBucket, CloudFormationModel) and model_map["AWS::S3::Bucket"] is not FakeBucket
    assert all(name.startswith("payctl.local.providers.") for name in PROVIDER_MODULES)


def test_moto_drives_providers_through_the_expected_calls() -> None:
    create = inspect.getsource(parsing.parse_and_create_resource)
    assert "create_from_cloudformation_json(" in create and '"LogicalId"' in create and '"StackId"' in create
    update = inspect.getsource(parsing.parse_and_update_resource)
    assert "__isabstractmethod__" in update and "update_from_cloudformation_json(" in update
    for keyword in (
        "original_resource=",
        "new_resource_name=",
        "cloudformation_json=",
        "account_id=",
        "region_name=",
    ):
        assert keyword in update, f"moto no longer passes {keyword} to update_from_cloudformation_json"
    delete = inspect.getsource(parsing.ResourceMap._delete_resource)
    assert "parsed_resource.delete(self._account_id, self._region_name)" in delete
    assert "physical_resource_id" in inspect.getsource(parsing.clean_json), (
        "Ref no longer reads physical_resource_id"
    )
    assert "get_cfn_attribute(" in inspect.getsource(parsing.clean_json)
