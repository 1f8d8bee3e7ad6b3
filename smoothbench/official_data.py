"""Facts about the official test sets that published numbers were made on, shared by the
loaders (``baselines.datasets``) and the report (``reports.data_caveat``), which may not
import each other."""

#: md5 of CIFAR-10's official test batch (``cifar-10-batches-py/test_batch``), as
#: torchvision checks it.
CIFAR10_TEST_MD5 = "40351d587109b95175f43aff81a1287e"
#: Images of the ImageNet validation set.
IMAGENET_VAL_IMAGES = 50_000
